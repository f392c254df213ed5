/**
 * The upload path when things go wrong: a crash between upload and acknowledgement, a duplicate
 * upload, a redelivered queue message, a file for an unknown table, a deactivated client.
 */
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import amqp from 'amqplib';
import { uploadHeaderFor, writeDxFile, type DxTransaction } from '@outpost/dx-format';
import { captureBarrier } from '@outpost/server-db';
import { waitFor } from '@outpost/test-support';
import { admin, adminJson, agent } from './support/cli';
import { exec, sync } from './support/laptops';
import { createWorld, type World } from './support/world';
import { listKeys } from './support/s3';

describe('upload faults', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => {
    await world?.close();
  });

  async function session(client: string, secret: string): Promise<string> {
    const response = await fetch(`${world.stack.gatewayUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client, secret, agentVersion: 'test', formatVersion: 1 }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  }

  async function put(token: string, fileSeq: number, file: string): Promise<Response> {
    const bytes = readFileSync(file);
    return fetch(`${world.stack.gatewayUrl}/v1/upload/${fileSeq}`, {
      method: 'PUT',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/octet-stream',
        'x-dx-sha256': createHash('sha256').update(bytes).digest('hex'),
      },
      body: bytes,
    });
  }

  async function dxFile(
    client: string,
    fileSeq: number,
    firstSeq: number,
    txs: DxTransaction[],
  ): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-dx-'));
    const header = uploadHeaderFor(client, fileSeq, { firstSeq, count: txs.length });
    const file = path.join(dir, `${fileSeq}.dx`);
    await writeDxFile(file, header, txs);
    return file;
  }

  const accountInsert = (seq: number, name: string, user = 'dora'): DxTransaction => ({
    seq,
    at: new Date().toISOString(),
    user,
    table: 'account',
    id: randomUUID(),
    op: 'insert',
    row: { name, owner_login: user },
  });

  const inboxRows = async (client: string) =>
    (
      await world.db.query(
        'SELECT file_seq, status, reason, object_key FROM sync_inbox_file WHERE client = $1 ORDER BY file_seq',
        [client],
      )
    ).rows;

  it('re-syncs after a crash between upload and acknowledgement without sending or applying twice', async () => {
    const dir = await world.laptop('erin-laptop', 'erin', { extract: false });
    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Crashy Corp', 'erin')`);
    // The agent dies after the server stored the file, before it recorded the acknowledgement.
    const crashed = await agent(['sync', '--dir', dir], { SYNC_AGENT_TEST_CRASH: 'after-upload' });
    expect(crashed.code).not.toBe(0);
    expect(readdirSync(path.join(dir, 'outbox')).filter((f) => f.endsWith('.dx'))).toHaveLength(1);

    const again = await sync<{ uploaded: { files: number } }>(dir);
    expect(again.uploaded.files).toBe(0); // the server already had it: not sent again
    expect(readdirSync(path.join(dir, 'outbox')).filter((f) => f.endsWith('.dx'))).toHaveLength(0);
    await waitFor(async () => (await inboxRows('erin-laptop'))[0]?.status === 'applied', {
      timeoutMs: 30_000,
      description: "erin's file applied",
    });
    expect(await inboxRows('erin-laptop')).toHaveLength(1);
    const accounts = await world.db.query(
      `SELECT count(*)::int AS n FROM account WHERE name = 'Crashy Corp'`,
    );
    expect(accounts.rows[0].n).toBe(1);
  });

  it('stores and applies a duplicate upload once, and refuses another file under a taken seq', async () => {
    const secret = await world.register('dora-laptop', 'dora');
    const token = await session('dora-laptop', secret);
    const file = await dxFile('dora-laptop', 1, 1, [accountInsert(1, 'Dup Inc')]);
    expect((await put(token, 1, file)).status).toBe(201);
    const second = await put(token, 1, file);
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ status: 'duplicate' });

    const other = await dxFile('dora-laptop', 1, 1, [accountInsert(1, 'Other Inc')]);
    const taken = await put(token, 1, other);
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ error: { code: 'FILE_SEQ_TAKEN' } });

    // The object moves to the archive just after the commit.
    await waitFor(async () => (await inboxRows('dora-laptop'))[0]?.object_key.startsWith('archive/'), {
      timeoutMs: 30_000,
      description: "dora's file applied and archived",
    });
    expect((await inboxRows('dora-laptop'))[0]?.status).toBe('applied');
    expect(await listKeys(world.s3, world.inboxBucket, 'inbox/dora-laptop/')).toEqual([]);
    expect(await listKeys(world.s3, world.inboxBucket, 'archive/dora-laptop/')).toHaveLength(1);
    const rows = await world.db.query(`SELECT name FROM account WHERE name IN ('Dup Inc', 'Other Inc')`);
    expect(rows.rows).toEqual([{ name: 'Dup Inc' }]);
  });

  it('ignores a redelivered queue message', async () => {
    const secret = await world.register('fred-laptop', 'fred');
    const token = await session('fred-laptop', secret);
    const file = await dxFile('fred-laptop', 1, 1, [accountInsert(1, 'Redelivery Ltd', 'fred')]);
    expect((await put(token, 1, file)).status).toBe(201);
    await waitFor(async () => (await inboxRows('fred-laptop'))[0]?.status === 'applied', {
      timeoutMs: 30_000,
      description: "fred's file applied",
    });
    // The same event again, as the broker would redeliver it, then the client's next file.
    const connection = await amqp.connect(process.env.AMQP_URL!);
    const channel = await connection.createConfirmChannel();
    const event = {
      pattern: 'dx.file.received',
      data: { client: 'fred-laptop', fileSeq: 1, objectKey: 'x', sha256: 'x', size: 1 },
    };
    channel.sendToQueue(`${world.prefix}.dx.inbox`, Buffer.from(JSON.stringify(event)), { persistent: true });
    await channel.waitForConfirms();
    await connection.close();
    const next = await dxFile('fred-laptop', 2, 2, [accountInsert(2, 'After Redelivery Ltd', 'fred')]);
    expect((await put(token, 2, next)).status).toBe(201);
    await waitFor(async () => (await inboxRows('fred-laptop'))[1]?.status === 'applied', {
      timeoutMs: 30_000,
      description: "fred's second file applied after the redelivered message",
    });

    const rows = await world.db.query(`SELECT id, row_version FROM account WHERE name = 'Redelivery Ltd'`);
    expect(rows.rows).toEqual([{ id: expect.any(String), row_version: '1' }]);
    expect(await captureBarrier(world.db, { timeoutMs: 30_000 })).toBe(true);
    const logged = await world.db.query(`SELECT count(*)::int AS n FROM sync_txn_log WHERE row_id = $1`, [
      rows.rows[0].id,
    ]);
    expect(logged.rows[0].n).toBe(1);
    const position = await world.db.query(
      `SELECT file_seq::int, txn_seq::int FROM sync_apply_position WHERE client = 'fred-laptop'`,
    );
    expect(position.rows).toEqual([{ file_seq: 2, txn_seq: 2 }]);
  });

  it('quarantines a file for an unknown table and holds the client’s later files', async () => {
    const secret = await world.register('gina-laptop', 'gina');
    const token = await session('gina-laptop', secret);
    const bad = await dxFile('gina-laptop', 1, 1, [
      {
        seq: 1,
        at: new Date().toISOString(),
        user: 'gina',
        table: 'salary',
        id: randomUUID(),
        op: 'insert',
        row: { amount: 1 },
      },
    ]);
    const later = await dxFile('gina-laptop', 2, 2, [accountInsert(2, 'Waiting GmbH', 'gina')]);
    expect((await put(token, 1, bad)).status).toBe(201);
    expect((await put(token, 2, later)).status).toBe(201);

    const inbox = await waitFor(
      async () => {
        const view = await adminJson<
          Array<{ fileSeq: number; status: string; waiting: boolean; reason: string | null }>
        >(['inbox', 'gina-laptop'], world.stack);
        return view[0]?.status === 'quarantined' ? view : undefined;
      },
      { timeoutMs: 30_000, description: "gina's bad file quarantined" },
    );
    expect(inbox[0]!.reason).toMatch(/salary/);
    expect(inbox[1]).toMatchObject({ fileSeq: 2, status: 'received', waiting: true });
    await waitFor(async () => (await inboxRows('gina-laptop'))[0]?.object_key.startsWith('quarantine/'), {
      timeoutMs: 30_000,
      description: "gina's bad file moved to quarantine/",
    });
    expect(await listKeys(world.s3, world.inboxBucket, 'quarantine/gina-laptop/')).toHaveLength(1);
    const rows = await world.db.query(`SELECT count(*)::int AS n FROM account WHERE name = 'Waiting GmbH'`);
    expect(rows.rows[0].n).toBe(0);
    const human = await admin(['inbox', 'gina-laptop'], world.stack);
    expect(human.stdout).toMatch(/quarantined/);
  });

  it('refuses a deactivated client and stores nothing', async () => {
    const dir = await world.laptop('hank-laptop', 'hank', { extract: false });
    const deactivated = await admin(['clients', 'deactivate', 'hank-laptop'], world.stack);
    expect(deactivated.code).toBe(0);
    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Gone Away', 'hank')`);
    const result = await agent(['sync', '--dir', dir]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/CLIENT_DEACTIVATED/);
    expect(await inboxRows('hank-laptop')).toEqual([]);
    expect(await listKeys(world.s3, world.inboxBucket, 'inbox/hank-laptop/')).toEqual([]);
    expect(readdirSync(path.join(dir, 'outbox')).filter((f) => f.endsWith('.dx'))).toHaveLength(1);
  });
});
