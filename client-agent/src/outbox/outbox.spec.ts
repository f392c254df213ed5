import * as fs from 'node:fs';
import { readDxFile, DxTransaction } from '@outpost/dx-format';
import { agentPaths } from '../config/agent-config';
import { AgentError, AgentErrorCode } from '../errors';
import { LogEntry, LogRepository } from '../local-store/log.repository';
import { runStatement } from '../local-store/sql';
import { makeClientFolder } from '../testing/fixtures';
import { hashFile } from './atomic-file';
import { Outbox, outboxFileName } from './outbox';

async function readAll(
  file: string,
): Promise<{ header: Awaited<ReturnType<ReturnType<typeof readDxFile>['header']>>; txs: DxTransaction[] }> {
  const reader = readDxFile(file);
  const header = await reader.header();
  const txs: DxTransaction[] = [];
  for await (const tx of reader) txs.push(tx);
  return { header, txs };
}

describe('outbox extract', () => {
  let folder: ReturnType<typeof makeClientFolder>;
  beforeEach(() => (folder = makeClientFolder()));
  afterEach(() => folder.cleanup());

  const insertAccounts = (n: number, from = 0) => {
    for (let i = from; i < from + n; i++)
      runStatement(folder.store, `INSERT INTO account(name) VALUES ('account ${i}')`);
  };
  const outbox = (hooks = {}) =>
    new Outbox(folder.store, agentPaths(folder.cfg.dir), folder.cfg.client, hooks);
  const seqsInOutbox = async () => {
    const seqs: number[] = [];
    for (const row of new LogRepository(folder.store).filesWithStatus('written')) {
      const { header, txs } = await readAll(outbox().filePath(row.file_seq));
      expect(header).toMatchObject({
        direction: 'upload',
        client: 'laptop-1',
        fileSeq: row.file_seq,
        count: txs.length,
      });
      seqs.push(...txs.map((t) => t.seq));
    }
    return seqs;
  };

  it('writes pending entries in order, at most N per file, named by file seq, each once', async () => {
    insertAccounts(7);
    const first = await outbox().extract(3);
    expect(first.files.map((f) => [f.fileSeq, f.firstSeq, f.lastSeq, f.count])).toEqual([
      [1, 1, 3, 3],
      [2, 4, 6, 3],
      [3, 7, 7, 1],
    ]);
    expect(fs.readdirSync(agentPaths(folder.cfg.dir).outbox).filter((n) => n.endsWith('.dx'))).toEqual(
      [1, 2, 3].map(outboxFileName),
    );
    expect(outboxFileName(1)).toBe('000000000001.dx');
    expect((await outbox().extract(3)).files).toEqual([]);
    insertAccounts(2, 7);
    expect((await outbox().extract(3)).files.map((f) => [f.fileSeq, f.firstSeq, f.lastSeq])).toEqual([
      [4, 8, 9],
    ]);
    expect(await seqsInOutbox()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('closes a file at a byte bound too; a change larger than the bound goes in a file of its own', async () => {
    insertAccounts(2);
    runStatement(folder.store, `INSERT INTO account(name) VALUES ('${'x'.repeat(5000)}')`);
    insertAccounts(3, 2);
    const sizes = folder.store.db
      .prepare('SELECT octet_length(row_json) AS n FROM _outpost_log ORDER BY seq')
      .all() as Array<{ n: number }>;
    const small = Math.max(...sizes.filter((_, i) => i !== 2).map((s) => s.n));
    expect(sizes[2].n).toBeGreaterThan(5000);
    expect(3 * Math.min(...sizes.map((s) => s.n))).toBeGreaterThan(2 * small + 1);
    // Room for two small entries per file, never for the large one with anything else.
    const result = await outbox().extract(100, 2 * small + 1);
    expect(result.files.map((f) => [f.firstSeq, f.lastSeq])).toEqual([
      [1, 2],
      [3, 3],
      [4, 5],
      [6, 6],
    ]);
    expect(await seqsInOutbox()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reads the entries of a file a page of bounded bytes at a time, each once, in order', async () => {
    runStatement(folder.store, `INSERT INTO account(name) VALUES ('${'x'.repeat(3000)}')`);
    insertAccounts(5);
    await outbox().extract(10);
    const db = folder.store.db;
    const prepare = db.prepare.bind(db);
    const pages: LogEntry[][] = [];
    const spy = jest.spyOn(db, 'prepare').mockImplementation((sql: string) => {
      const stmt = prepare(sql);
      if (!sql.includes('BETWEEN')) return stmt;
      const all = stmt.all.bind(stmt);
      return Object.assign(stmt, {
        all: (...args: unknown[]) => {
          const rows = all(...args) as LogEntry[];
          pages.push(rows);
          return rows;
        },
      });
    });
    const seqs = [...new LogRepository(folder.store).entriesOfFile(1, 400)].map((e) => e.seq);
    spy.mockRestore();
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    expect(pages[0].map((e) => e.seq)).toEqual([1]);
    expect(pages.length).toBeGreaterThan(2);
    for (const page of pages.slice(1))
      expect(page.reduce((n, e) => n + Buffer.byteLength(e.row_json ?? ''), 0)).toBeLessThanOrEqual(400);
  });

  it('sends typed values and the user known when the file seq was assigned', async () => {
    folder.store.db.exec(`INSERT INTO _outpost_state(key, value) VALUES ('user_login', 'alice')`);
    runStatement(
      folder.store,
      'INSERT INTO opportunity(id, account_id, name, stage, amount, close_date, owner_login) VALUES ' +
        "('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002', 'Deal', 'new', '1250000', '2025-06-30', 'alice')",
    );
    runStatement(folder.store, "UPDATE opportunity SET amount = '99.5'");
    await outbox().extract();
    const { txs } = await readAll(outbox().filePath(1));
    expect(txs[0]).toMatchObject({
      op: 'insert',
      user: 'alice',
      row: { amount: { $dec: '1250000.00' }, close_date: { $date: '2025-06-30' } },
    });
    expect(txs[1]).toMatchObject({
      op: 'update',
      base: null,
      changes: { amount: { old: { $dec: '1250000.00' }, new: { $dec: '99.50' } } },
    });
  });

  it('regenerates a file whose seq was assigned when the process died before writing it', async () => {
    insertAccounts(5);
    const crash = () => {
      throw new AgentError(AgentErrorCode.InjectedFailure, 'injected crash after assign');
    };
    await expect(outbox({ afterAssign: crash }).extract(2)).rejects.toThrow('injected crash after assign');
    expect(fs.readdirSync(agentPaths(folder.cfg.dir).outbox).filter((n) => n.endsWith('.dx'))).toEqual([]);
    expect(new LogRepository(folder.store).pendingCount()).toBe(0);
    insertAccounts(1, 5);
    const result = await outbox().extract(2);
    expect(result.recovered).toBe(3);
    expect(result.files.map((f) => f.fileSeq)).toEqual([4]);
    expect(await seqsInOutbox()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('finishes a file that was written but not recorded, without duplicating it', async () => {
    insertAccounts(3);
    await expect(
      outbox({
        afterWrite: () => {
          throw new Error('injected crash after write');
        },
      }).extract(10),
    ).rejects.toThrow('injected crash after write');
    const result = await outbox().extract(10);
    expect(result.recovered).toBe(1);
    expect(await seqsInOutbox()).toEqual([1, 2, 3]);
  });

  it('regenerates a lost, unacknowledged file byte for byte', async () => {
    insertAccounts(4);
    await outbox().extract(2);
    const file = outbox().filePath(2);
    const before = fs.readFileSync(file);
    const { sha256 } = await hashFile(file);
    fs.rmSync(file);
    const result = await outbox().extract(2);
    expect(result.recovered).toBe(1);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
    expect((await hashFile(file)).sha256).toBe(sha256);
  });

  it('moves an acknowledged file aside and never writes it again', async () => {
    insertAccounts(2);
    await outbox().extract(1);
    outbox().markSent(1);
    const paths = agentPaths(folder.cfg.dir);
    expect(fs.existsSync(outbox().filePath(1))).toBe(false);
    expect(fs.existsSync(`${paths.sent}/${outboxFileName(1)}`)).toBe(true);
    expect((await outbox().extract(1)).recovered).toBe(0);
    expect(
      outbox()
        .waitingFiles()
        .map((f) => f.file_seq),
    ).toEqual([2]);
  });

  it('refuses a value that breaks its column type before assigning anything', async () => {
    // A program that bypassed the CHECKs (they are off here) stored an amount beyond decimal(18,2).
    folder.store.db.pragma('ignore_check_constraints = ON');
    runStatement(
      folder.store,
      'INSERT INTO opportunity(account_id, name, stage, amount, owner_login) VALUES ' +
        "('00000000-0000-4000-8000-000000000002', 'Deal', 'new', '12345678901234567890', 'alice')",
    );
    await expect(outbox().extract()).rejects.toThrow(/local change #1 .*opportunity\.amount/);
    expect(new LogRepository(folder.store).pendingCount()).toBe(1);
    expect(new LogRepository(folder.store).filesWithStatus('assigned', 'written')).toEqual([]);
  });
});

describe('outbox retention', () => {
  let folder: ReturnType<typeof makeClientFolder>;
  beforeEach(() => (folder = makeClientFolder()));
  afterEach(() => folder.cleanup());

  it('removes only sent files acknowledged before the cutoff; unsent and recently sent files stay', async () => {
    const paths = agentPaths(folder.cfg.dir);
    const outbox = new Outbox(folder.store, paths, folder.cfg.client);
    for (let i = 0; i < 3; i++) {
      runStatement(folder.store, `INSERT INTO account(name) VALUES ('account ${i}')`);
      await outbox.extract();
    }
    outbox.markSent(1);
    outbox.markSent(2);
    // File 1 was acknowledged ten days ago, file 2 just now, file 3 never.
    const tenDaysAgo = new Date(Date.now() - 10 * 86_400_000).toISOString();
    folder.store.db.prepare(`UPDATE _outpost_file SET sent_at = ? WHERE file_seq = 1`).run(tenDaysAgo);
    const weekAgo = new Date(Date.now() - 7 * 86_400_000);

    expect(outbox.pruneSent(weekAgo)).toBe(1);
    expect(fs.readdirSync(paths.sent).sort()).toEqual([outboxFileName(2)]);
    expect(fs.readdirSync(paths.outbox).filter((n) => n.endsWith('.dx'))).toEqual([outboxFileName(3)]);
    expect(outbox.waitingFiles().map((f) => f.file_seq)).toEqual([3]);

    // Even a cutoff in the future never touches the file the server has not acknowledged.
    expect(outbox.pruneSent(new Date(Date.now() + 86_400_000))).toBe(1);
    expect(fs.readdirSync(paths.sent)).toEqual([]);
    expect(fs.existsSync(outbox.filePath(3))).toBe(true);
    expect(await outbox.recover()).toBe(0);
  });
});
