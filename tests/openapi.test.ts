import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createWorld, type World } from './support/world';

const run = promisify(execFile);
const REPO_ROOT = path.resolve(__dirname, '..');
const checkedIn = (kind: 'agent' | 'admin') =>
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'docs/openapi', `${kind}.json`), 'utf8')) as Record<
    string,
    unknown
  >;

/** The agent and admin APIs publish their OpenAPI documents, and the checked-in copies are current. */
describe('OpenAPI documents', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  }, 120_000);
  afterAll(() => world?.close());

  it('in docs/openapi are what the code generates (npm run openapi:check)', async () => {
    const { stdout } = await run(process.execPath, [
      path.join(REPO_ROOT, 'services/sync-gateway/dist/openapi/write-openapi.js'),
      '--check',
    ]);
    expect(stdout).toMatch(/agent\.json matches the code/);
    expect(stdout).toMatch(/admin\.json matches the code/);
  });

  it('are served at /openapi.json on each port', async () => {
    const agent = await (await fetch(`${world.stack.gatewayUrl}/openapi.json`)).json();
    const admin = await (await fetch(`${world.stack.adminUrl}/openapi.json`)).json();
    expect(agent).toEqual(checkedIn('agent'));
    expect(admin).toEqual(checkedIn('admin'));
    expect(Object.keys((agent as { paths: object }).paths)).toContain('/v1/sessions');
    expect(Object.keys((admin as { paths: object }).paths)).toContain('/admin/lag');
  });

  it('validates an admin request body against the DTO the document shows', async () => {
    const res = await fetch(`${world.stack.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 42 }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('VALIDATION_FAILED');
    expect(body.error.message).toContain('name must be a string');
    expect(body.error.message).toContain('userLogin must be a string');
    const schema = (checkedIn('admin') as { components: { schemas: Record<string, { required: string[] }> } })
      .components.schemas.AddClientDto;
    expect(schema.required.sort()).toEqual(['name', 'userLogin']);
  });

  it('validates the agent API bodies against the DTOs the document shows, nested objects included', async () => {
    const post = async (route: string, body: unknown, token?: string) => {
      const res = await fetch(`${world.stack.gatewayUrl}${route}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } };
    };
    const open = await post('/v1/sessions', {
      client: 42,
      formatVersion: 2,
      schema: { name: 'sales', version: 0 },
    });
    expect([open.status, open.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    for (const problem of [
      'client (string) is required',
      'secret (string) is required',
      'agentVersion (string) is required',
      'formatVersion must be 1; upgrade the agent',
      'schema.version must be 1 or more',
    ])
      expect(open.body.error.message).toContain(problem);
    const schemas = (
      checkedIn('agent') as { components: { schemas: Record<string, { required: string[] }> } }
    ).components.schemas;
    expect(schemas.OpenSessionBody.required.sort()).toEqual([
      'agentVersion',
      'client',
      'formatVersion',
      'secret',
    ]);
    expect(schemas.SchemaRefBody.required.sort()).toEqual(['name', 'version']);

    const secret = await world.register('openapi-laptop', 'alice');
    const session = await post('/v1/sessions', {
      client: 'openapi-laptop',
      secret,
      agentVersion: 'test',
      formatVersion: 1,
    });
    expect(session.status).toBe(201);
    const token = (session.body as unknown as { token: string }).token;
    const ack = await post('/v1/download/ack', { epoch: -1, upToFileSeq: 'all' }, token);
    expect([ack.status, ack.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(ack.body.error.message).toContain('epoch must be a non-negative integer');
    expect(ack.body.error.message).toContain('upToFileSeq must be a non-negative integer');
  });
});
