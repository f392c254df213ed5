import { spawnSync } from 'node:child_process';
import { migrate, migrations, revertLastMigration } from '@outpost/server-db';
import { createTestDatabase, type TestDatabase } from '@outpost/test-support';
import { sqlClient, type Sql } from './support/database';

describe('server-db migrate()', () => {
  let db: TestDatabase;
  let sql: Sql;

  beforeAll(async () => {
    db = await createTestDatabase('migrate');
    sql = sqlClient(db.url);
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  it('runs every migration exactly once when services migrate at the same moment', async () => {
    const results = await Promise.all([migrate(db.url), migrate(db.url), migrate(db.url)]);
    const applied = results.flatMap((r) => r.applied);
    expect(applied).toHaveLength(migrations.length);
    expect(new Set(applied).size).toBe(migrations.length);
    const tables = await sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('sync_client', 'sync_inbox_file', 'sync_apply_position')`,
    );
    expect(tables.map((t) => t.table_name).sort()).toEqual([
      'sync_apply_position',
      'sync_client',
      'sync_inbox_file',
    ]);
    expect((await migrate(db.url)).applied).toEqual([]);
  });

  it('enforces client names and inbox statuses in the schema', async () => {
    await expect(
      sql.query(`INSERT INTO sync_client (name, user_login, secret_hash) VALUES ('../bad', 'u', 'h')`),
    ).rejects.toThrow(/check constraint/);
    await sql.query(`INSERT INTO sync_client (name, user_login, secret_hash) VALUES ('ok-1', 'u', 'h')`);
    await expect(
      sql.query(
        `INSERT INTO sync_inbox_file (client, file_seq, object_key, sha256, size, txn_count, first_seq, last_seq, status)
         VALUES ('ok-1', 1, 'k', repeat('a', 64), 1, 1, 1, 1, 'lost')`,
      ),
    ).rejects.toThrow(/check constraint/);
  });

  it('reverts the last migration with its down script', async () => {
    const [{ n: before }] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_migrations');
    await revertLastMigration(db.url);
    const [{ n: after }] = await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM sync_migrations');
    expect(after).toBe(before - 1);
    expect((await migrate(db.url)).applied).toHaveLength(1);
  });
});

describe('server-db migrate-cli (the deployment migration step)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('migrate_cli');
  });
  afterAll(() => db?.drop());

  it('applies every migration once, then finds nothing to do', () => {
    const cli = require.resolve('@outpost/server-db/dist/migrate-cli.js');
    const run = () =>
      spawnSync(process.execPath, [cli], {
        env: { PATH: process.env.PATH, DATABASE_URL: db.url },
        encoding: 'utf8',
      });
    const first = run();
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`migrate: applied ${migrations[0].name}`);
    const second = run();
    expect(second.stdout).toBe('migrate: up to date\n');
    expect(second.status).toBe(0);
  });
});
