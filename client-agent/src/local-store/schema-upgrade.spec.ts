import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DX_FORMAT, DX_VERSION, readDxFile, type DxHeader, type DxTransaction } from '@outpost/dx-format';
import { salesHistory } from '@outpost/schema';
import { agentPaths } from '../config/agent-config';
import { AgentError, AgentErrorCode } from '../errors';
import { hashFile } from '../outbox/atomic-file';
import { Outbox } from '../outbox/outbox';
import { DownloadApplier } from './download-applier';
import { LocalStore } from './local-store';
import { runStatement } from './sql';

const ACCOUNT = '00000000-0000-4000-8000-0000000000a1';
const OPP = '00000000-0000-4000-8000-0000000000b1';

describe('local store schema upgrade', () => {
  let dir: string;
  let store: LocalStore;
  const paths = () => agentPaths(dir);

  /** A store as a laptop set up against a v1 server holds it. */
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-upgrade-'));
    fs.mkdirSync(paths().sent, { recursive: true });
    store = LocalStore.open(paths().db, salesHistory);
    expect(store.resetTo(1)).toBe(true);
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps unsent changes: files written before keep their version and regenerate byte for byte', async () => {
    runStatement(store, `INSERT INTO account (id, name, owner_login) VALUES ('${ACCOUNT}', 'Acme', 'ann')`);
    runStatement(
      store,
      `INSERT INTO opportunity (id, account_id, name, stage, owner_login) VALUES ('${OPP}', '${ACCOUNT}', 'Deal', 'New', 'ann')`,
    );
    const outbox = new Outbox(store, paths(), 'laptop-1');
    const [file] = (await outbox.extract()).files;
    runStatement(store, `UPDATE opportunity SET stage = 'Won' WHERE id = '${OPP}'`);

    expect(store.upgrade(salesHistory.stepsBetween(1, 3))).toEqual({ from: 1, to: 3 });
    expect(store.schema.version).toBe(3);
    expect(store.db.prepare('SELECT probability FROM opportunity').get()).toEqual({ probability: 10 });

    // The file written under v1 is lost: it comes back identical, still saying v1.
    const written = outbox.filePath(file.fileSeq);
    fs.rmSync(written);
    await outbox.recover();
    expect((await hashFile(written)).sha256).toBe(file.sha256);
    const reader = readDxFile(written);
    expect((await reader.header()).schemaVersion).toBe(1);
    const txs: DxTransaction[] = [];
    for await (const tx of reader) txs.push(tx);
    expect(txs[1]).toMatchObject({ op: 'insert', table: 'opportunity' });
    expect('probability' in (txs[1] as { row: object }).row).toBe(false);

    // The change made before the upgrade goes out in a v3 file; a change after captures the new column.
    runStatement(store, `UPDATE opportunity SET probability = 70 WHERE id = '${OPP}'`);
    const [next] = (await outbox.extract()).files;
    const later = readDxFile(outbox.filePath(next.fileSeq));
    expect((await later.header()).schemaVersion).toBe(3);
    const changes: DxTransaction[] = [];
    for await (const tx of later) changes.push(tx);
    expect(changes.map((t) => (t.op === 'update' ? Object.keys(t.changes) : t.op))).toEqual([
      ['stage'],
      ['probability'],
    ]);

    // Reopened by an agent of any version, the store keeps its own definition.
    store.close();
    store = LocalStore.open(paths().db, salesHistory);
    expect(store.schema.version).toBe(3);
  });

  it('changes nothing when the steps do not apply, and refuses to reset a store holding changes', () => {
    runStatement(store, `INSERT INTO account (name) VALUES ('Acme')`);
    const skipped = salesHistory.stepsBetween(2, 3);
    expect(() => store.upgrade(skipped)).toThrow(
      expect.objectContaining({ code: AgentErrorCode.SchemaUpgradeFailed }) as AgentError,
    );
    expect(store.schema.version).toBe(1);
    expect(
      store.db.prepare("SELECT count(*) AS n FROM pragma_table_info('contact') WHERE name = 'phone'").get(),
    ).toEqual({ n: 0 });
    expect(store.resetTo(3)).toBe(false);
  });

  it('applies a download row routed before the upgrade: it sets the columns it has', async () => {
    store.upgrade(salesHistory.stepsBetween(1, 2));
    const header: DxHeader = {
      format: DX_FORMAT,
      version: DX_VERSION,
      client: 'laptop-1',
      fileSeq: 1,
      direction: 'download',
      firstSeq: 1,
      lastSeq: 2,
      count: 2,
      createdAt: '2026-11-29T10:00:00.000Z',
      kind: 'changes',
      epoch: 1,
      schemaVersion: 1,
    };
    const at = '2026-11-29T10:00:00.000Z';
    const sync = { row_version: 1, updated_at: { $ts: at }, sync_conflict_of: null };
    const txs: DxTransaction[] = [
      {
        seq: 1,
        at,
        user: '',
        table: 'account',
        id: ACCOUNT,
        op: 'upsert',
        version: 1,
        row: { id: ACCOUNT, name: 'Acme', owner_login: 'ann', ...sync },
      },
      {
        seq: 2,
        at,
        user: '',
        table: 'opportunity',
        id: OPP,
        op: 'upsert',
        version: 1,
        row: {
          id: OPP,
          account_id: ACCOUNT,
          name: 'Deal',
          stage: 'New',
          amount: null,
          close_date: null,
          owner_login: 'ann',
          ...sync,
        },
      },
    ];
    await new DownloadApplier(store).apply(header, [txs], 1);
    expect(store.db.prepare('SELECT name, probability FROM opportunity').get()).toEqual({
      name: 'Deal',
      probability: 10,
    });
    await expect(
      new DownloadApplier(store).apply({ ...header, fileSeq: 2, schemaVersion: 3 }, [], 1),
    ).rejects.toThrow(/written under schema sales v3, but this laptop holds v2/);
  });
});
