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
});
