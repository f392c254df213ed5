/**
 * Internal endpoints authenticate their caller: the inbox-store's HTTP byte path and every RPC
 * queue need the service token, the registry's client management needs the admin token too, and
 * no service starts with a placeholder or short secret.
 */
import type { ClientProxy } from '@nestjs/microservices';
import { ErrorCode, patterns, type ClientWithSecret } from '@outpost/contracts';
import { callRpc, DomainError, rmqClient, rpcCredentials } from '@outpost/server-kit';
import { ObjectStore } from '@outpost/storage';
import {
  defaultRepoRoot,
  spawnService,
  startStack,
  type ServerService,
  type Stack,
} from '@outpost/test-support';
import { createHash, createHmac, hkdfSync, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { stackObjectStore } from '../support/s3';

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('internal trust', () => {
  let stack: Stack;
  let db: Client;
  let registry: ClientProxy;
  let inboxRpc: ClientProxy;
  let store: ObjectStore;

  const rpc = async <T>(
    client: ClientProxy,
    pattern: string,
    data: object,
    headers: Record<string, string>,
  ) => callRpc<T>(client, pattern, data, randomUUID(), { headers, timeoutMs: 10_000 });
  const refusal = async (
    client: ClientProxy,
    pattern: string,
    data: object,
    headers: Record<string, string>,
  ): Promise<string> => {
    try {
      await rpc(client, pattern, data, headers);
    } catch (err) {
      return (err as DomainError).code;
    }
    throw new Error(`${pattern} was answered without the right credentials`);
  };
  const clientRow = async (name: string) =>
    (
      await db.query<{ secret_hash: string; status: string; extract_requested_at: Date | null }>(
        'SELECT secret_hash, status, extract_requested_at FROM sync_client WHERE name = $1',
        [name],
      )
    ).rows[0];

  beforeAll(async () => {
    stack = await startStack({ services: ['client-registry', 'inbox-store', 'sync-gateway'] });
    db = new Client({ connectionString: stack.databaseUrl });
    await db.connect();
    registry = rmqClient(stack.env.AMQP_URL, stack.queuePrefix, 'registryRpc');
    inboxRpc = rmqClient(stack.env.AMQP_URL, stack.queuePrefix, 'inboxStoreRpc');
    store = stackObjectStore(stack);
  });

  afterAll(async () => {
    await registry?.close();
    await inboxRpc?.close();
    await db?.end();
    await stack?.stop();
  });

  describe('registry RPC', () => {
    const admin = () => rpcCredentials(stack.internalToken, stack.adminToken);
    const service = () => rpcCredentials(stack.internalToken);

    it('refuses every pattern without the service token, or with a wrong one, and changes nothing', async () => {
      const wrong = rpcCredentials('x'.repeat(10) + randomUUID(), stack.adminToken);
      for (const headers of [{}, wrong]) {
        expect(
          await refusal(registry, patterns.registryAdd, { name: 'rpc-intruder', userLogin: 'm' }, headers),
        ).toBe(ErrorCode.InternalTokenInvalid);
        expect(
          await refusal(
            registry,
            patterns.registryAuthenticate,
            { name: 'rpc-intruder', secret: 's' },
            headers,
          ),
        ).toBe(ErrorCode.InternalTokenInvalid);
      }
      expect(await clientRow('rpc-intruder')).toBeUndefined();
    });

    it('refuses the admin patterns to a caller holding only the service token, and changes nothing', async () => {
      const { secret } = await rpc<ClientWithSecret>(
        registry,
        patterns.registryAdd,
        { name: 'rpc-victim', userLogin: 'v' },
        admin(),
      );
      const before = await clientRow('rpc-victim');
      const cases: Array<[string, object]> = [
        [patterns.registryAdd, { name: 'rpc-planted', userLogin: 'm' }],
        [patterns.registryList, {}],
        [patterns.registryRotateSecret, { name: 'rpc-victim' }],
        [patterns.registryDeactivate, { name: 'rpc-victim' }],
        [patterns.registryReextract, { name: 'rpc-victim' }],
      ];
      for (const [pattern, data] of cases) {
        expect([pattern, await refusal(registry, pattern, data, service())]).toEqual([
          pattern,
          ErrorCode.AdminTokenInvalid,
        ]);
      }
      expect(await clientRow('rpc-planted')).toBeUndefined();
      expect(await clientRow('rpc-victim')).toEqual(before);
      // What a service is for still works with the service token alone.
      await expect(
        rpc(registry, patterns.registryAuthenticate, { name: 'rpc-victim', secret }, service()),
      ).resolves.toMatchObject({ name: 'rpc-victim', status: 'active' });
    });

    it('refuses the admin patterns with a wrong admin token', async () => {
      const wrongAdmin = rpcCredentials(stack.internalToken, `${stack.adminToken.slice(1)}Q`);
      expect(
        await refusal(registry, patterns.registryAdd, { name: 'rpc-planted-2', userLogin: 'm' }, wrongAdmin),
      ).toBe(ErrorCode.AdminTokenInvalid);
      expect(await refusal(registry, patterns.registryRotateSecret, { name: 'rpc-victim' }, wrongAdmin)).toBe(
        ErrorCode.AdminTokenInvalid,
      );
      expect(await clientRow('rpc-planted-2')).toBeUndefined();
    });
  });

  describe('inbox-store', () => {
    const put = (headers: Record<string, string>, body: Buffer) =>
      fetch(`${stack.inboxStoreUrl}/internal/inbox/http-victim/1`, {
        method: 'PUT',
        body,
        headers: {
          'content-type': 'application/octet-stream',
          'x-dx-sha256': sha(body),
          'x-dx-count': '1',
          'x-dx-first-seq': '1',
          'x-dx-last-seq': '1',
          ...headers,
        },
      });
    const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

    beforeAll(async () => {
      await db.query(
        `INSERT INTO sync_client (name, user_login, secret_hash) VALUES ('http-victim', 'v', 'x')`,
      );
    });

    it('refuses /internal/* without the service token or with a wrong one, and stores nothing', async () => {
      const body = Buffer.from('forged file');
      const attempts: Array<Record<string, string>> = [
        {},
        { authorization: `Bearer ${randomUUID()}${randomUUID()}` },
      ];
      for (const headers of attempts) {
        const res = await put(headers, body);
        expect([res.status, await code(res)]).toEqual([401, ErrorCode.InternalTokenInvalid]);
        const head = await fetch(`${stack.inboxStoreUrl}/internal/inbox/http-victim/1`, {
          method: 'HEAD',
          headers,
        });
        expect(head.status).toBe(401);
        const outbound = await fetch(`${stack.inboxStoreUrl}/internal/outbox/http-victim/0/1`, { headers });
        expect([outbound.status, await code(outbound)]).toEqual([401, ErrorCode.InternalTokenInvalid]);
        const commit = await fetch(`${stack.inboxStoreUrl}/internal/inbox/http-victim/1/commit`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            uploadId: randomUUID(),
            sha256: sha(body),
            txnCount: 1,
            firstSeq: 1,
            lastSeq: 1,
          }),
        });
        expect([commit.status, await code(commit)]).toEqual([401, ErrorCode.InternalTokenInvalid]);
      }
      expect((await db.query(`SELECT 1 FROM sync_inbox_file WHERE client = 'http-victim'`)).rowCount).toBe(0);
      expect(await store.list(store.inboxBucket, '')).toEqual([]);
      // The same request with the token is served: the refusal was about the caller.
      const ok = await put({ authorization: `Bearer ${stack.internalToken}` }, body);
      expect(ok.status).toBe(201);
    });

    it('refuses its RPC patterns without the service token', async () => {
      expect(await refusal(inboxRpc, patterns.inboxList, { client: 'http-victim' }, {})).toBe(
        ErrorCode.InternalTokenInvalid,
      );
      expect(await refusal(inboxRpc, patterns.inboxRetry, { client: 'http-victim', fileSeq: 1 }, {})).toBe(
        ErrorCode.InternalTokenInvalid,
      );
    });
  });

  describe('gateway', () => {
    it('refuses the admin API with a wrong admin token', async () => {
      for (const token of [`${stack.adminToken}x`, stack.internalToken, '']) {
        const res = await fetch(`${stack.adminUrl}/admin/clients`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'admin-planted', userLogin: 'm' }),
        });
        expect(res.status).toBe(401);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
          ErrorCode.AdminTokenInvalid,
        );
      }
      expect(await clientRow('admin-planted')).toBeUndefined();
    });

    it('refuses a session token signed with a key derived from the admin token', async () => {
      // How sessions were signed before SESSION_KEY became its own secret.
      const key = Buffer.from(
        hkdfSync('sha256', stack.adminToken, 'outpost-session', 'session-token-v1', 32),
      );
      const claims = {
        sessionId: randomUUID(),
        client: 'http-victim',
        exp: Math.floor(Date.now() / 1000) + 600,
      };
      const body = Buffer.from(JSON.stringify({ ...claims, epoch: 1 })).toString('base64url');
      const forged = `v1.${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
      const res = await fetch(`${stack.gatewayUrl}/v1/download`, {
        headers: { authorization: `Bearer ${forged}` },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(ErrorCode.SessionInvalid);
    });
  });

  describe('secrets at start', () => {
    const logDir = mkdtempSync(join(tmpdir(), 'outpost-secrets-at-start-'));
    /** Runs a service with `env` alone and resolves with its exit code and output. */
    const start = async (service: string, env: Record<string, string>) => {
      const run = spawnService({
        repoRoot: defaultRepoRoot(),
        name: service as ServerService,
        env,
        logFile: join(logDir, `${service}.log`),
        inheritEnv: false,
      });
      const { code } = await run.exited;
      return { code, output: run.output() };
    };

    /** The values of the example Kubernetes secrets, as someone would apply them unchanged. */
    function exampleSecrets(): Record<string, string> {
      const text = readFileSync(join(defaultRepoRoot(), 'deploy', 'k8s', 'base', 'secrets.yaml'), 'utf8');
      const values: Record<string, string> = {};
      for (const m of text.matchAll(/^ {2}([A-Z0-9_]+): (.+)$/gm)) values[m[1]] = m[2].trim();
      return values;
    }

    it('refuses to start with the example secrets, listing every bad variable', async () => {
      const example = exampleSecrets();
      expect(Object.keys(example)).toEqual(
        expect.arrayContaining([
          'ADMIN_TOKEN',
          'INTERNAL_TOKEN',
          'SESSION_KEY',
          'DATABASE_URL',
          'S3_SECRET_KEY',
        ]),
      );
      const expected: Record<string, string[]> = {
        'sync-gateway': ['DATABASE_URL', 'AMQP_URL', 'ADMIN_TOKEN', 'SESSION_KEY', 'INTERNAL_TOKEN'],
        'client-registry': ['DATABASE_URL', 'AMQP_URL', 'INTERNAL_TOKEN', 'ADMIN_TOKEN'],
        'inbox-store': ['DATABASE_URL', 'AMQP_URL', 'INTERNAL_TOKEN', 'S3_SECRET_KEY'],
        applier: ['DATABASE_URL', 'AMQP_URL', 'S3_SECRET_KEY'],
        router: ['DATABASE_URL', 'AMQP_URL', 'S3_SECRET_KEY'],
      };
      for (const [service, vars] of Object.entries(expected)) {
        const { code, output } = await start(service, { ...example, HEALTH_PORT: '0' });
        expect([service, code]).toEqual([service, 1]);
        for (const name of vars) expect(output).toMatch(new RegExp(`- ${name}: .*placeholder`));
        expect(output).not.toContain('CHANGE-ME');
      }
    });

    it('refuses short and repeated secrets and missing ones, all in one message', async () => {
      const { code, output } = await start('sync-gateway', {
        ADMIN_TOKEN: 'Zr81kq0Vb4',
        SESSION_KEY: 'k'.repeat(40),
      });
      expect(code).toBe(1);
      expect(output).toMatch(/ADMIN_TOKEN: too short: 10 characters, need at least 32/);
      expect(output).toMatch(/SESSION_KEY: is one pattern repeated/);
      expect(output).toMatch(/INTERNAL_TOKEN: missing/);
      expect(output).not.toContain('Zr81kq0Vb4');
    });
  });
});
