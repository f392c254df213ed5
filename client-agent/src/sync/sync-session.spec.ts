import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DX_FORMAT, DX_VERSION, DxTransaction, writeDxFile } from '@outpost/dx-format';
import { RefusalCode, type ConflictView } from '@outpost/contracts';
import { agentPaths } from '../config/agent-config';
import { runStatement } from '../local-store/sql';
import { outboxFileName } from '../outbox/outbox';
import { runCli } from '../program';
import { ACCOUNT_A, ACCOUNT_B, ACCOUNT_C, bufferIo, makeClientFolder } from '../testing/fixtures';
import { closedPort, FakeGateway } from '../testing/fake-gateway';

const AT = '2025-01-01T00:00:00.000Z';

async function downloadFile(
  fileSeq: number,
  kind: 'changes' | 'extract',
  txs: DxTransaction[],
  epoch = 1,
): Promise<Buffer> {
  const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-dl-')), 'f.dx');
  await writeDxFile(
    tmp,
    {
      format: DX_FORMAT,
      version: DX_VERSION,
      client: 'laptop-1',
      fileSeq,
      direction: 'download',
      firstSeq: txs[0]?.seq ?? 0,
      lastSeq: txs[txs.length - 1]?.seq ?? 0,
      count: txs.length,
      createdAt: AT,
      kind,
      epoch,
    },
    txs,
  );
  const body = fs.readFileSync(tmp);
  fs.rmSync(path.dirname(tmp), { recursive: true, force: true });
  return body;
}

const upsert = (seq: number, id: string, name: string): DxTransaction => ({
  seq,
  at: AT,
  user: 'bob',
  table: 'account',
  id,
  op: 'upsert',
  version: seq,
  row: { id, name, owner_login: 'alice', updated_at: { $ts: AT }, sync_conflict_of: null },
});

describe('sync against a fake gateway', () => {
  let gateway: FakeGateway;
  let folder: ReturnType<typeof makeClientFolder>;

  beforeEach(async () => {
    gateway = new FakeGateway();
    folder = makeClientFolder(await gateway.start());
  });
  afterEach(async () => {
    folder.cleanup();
    await gateway.stop();
  });

  const cli = async (...args: string[]) => {
    const io = bufferIo();
    const code = await runCli([...args, '--dir', folder.cfg.dir], io);
    return { code, out: io.stdoutText(), err: io.stderrText() };
  };
  const twoOutboxFiles = async () => {
    runStatement(folder.store, "INSERT INTO account(name) VALUES ('one')");
    runStatement(folder.store, "INSERT INTO account(name) VALUES ('two')");
    expect((await cli('extract', '--max-per-file', '1')).code).toBe(0);
  };

  it('tells of refused changes once, and keeps them for status', async () => {
    gateway.refusals = [
      {
        id: 'r1',
        at: '2026-01-01T00:00:00.000Z',
        client: 'laptop-1',
        userLogin: 'alice',
        fileSeq: 1,
        txnSeq: 1,
        table: 'account',
        rowId: '00000000-0000-4000-8000-000000000001',
        op: 'update',
        code: RefusalCode.NotVisible,
        reason: 'user "alice" cannot change this row',
      },
    ];
    const first = await cli('sync');
    expect(first.out).toMatch(/the server refused 1 of your change /);
    const again = await cli('sync', '--json');
    expect(JSON.parse(again.out)).toMatchObject({ refused: 0 });
    const status = await cli('status');
    expect(status.out).toMatch(/refused changes +1 /);
    expect(status.out).toMatch(/seq 1 update account 00000000-0000-4000-8000-000000000001: NOT_VISIBLE/);
  });

  it('uploads only what the server lacks and prints the JSON summary', async () => {
    await twoOutboxFiles();
    const first = fs.readFileSync(path.join(agentPaths(folder.cfg.dir).outbox, outboxFileName(1)));
    const { createHash } = await import('node:crypto');
    gateway.held.set(1, { sha256: createHash('sha256').update(first).digest('hex'), body: first });

    const { code, out } = await cli('sync', '--json');
    expect(code).toBe(0);
    expect(gateway.puts).toEqual([2]);
    const summary = JSON.parse(out) as Record<string, unknown>;
    expect(summary).toEqual({
      uploaded: { files: 1, txns: 1, bytes: expect.any(Number) },
      downloaded: { files: 0, txns: 0, bytes: 0 },
      alreadyOnServer: 1,
      conflicts: 0,
      refused: 0,
      durationMs: expect.any(Number),
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(fs.readdirSync(agentPaths(folder.cfg.dir).sent).sort()).toEqual([
      outboxFileName(1),
      outboxFileName(2),
    ]);
    expect(gateway.closedWith).toEqual({ result: { ok: true, uploadedFiles: 1, downloadedFiles: 0 } });

    const status = JSON.parse((await cli('status', '--json')).out) as Record<string, unknown>;
    expect(status).toMatchObject({
      userLogin: 'alice',
      pendingTransactions: 0,
      outboxFiles: 0,
      awaitingConfirmation: 2,
    });
  });

  it('stops when the server holds a file seq with other content, keeping the outbox', async () => {
    await twoOutboxFiles();
    gateway.held.set(1, { sha256: 'f'.repeat(64), body: Buffer.alloc(0) });
    const { code, err } = await cli('sync');
    expect(code).toBe(4);
    expect(err).toMatch(/server already holds upload file 1 of client laptop-1 with different content/);
    expect(gateway.puts).toEqual([]);
    expect(fs.readdirSync(agentPaths(folder.cfg.dir).outbox).filter((n) => n.endsWith('.dx'))).toHaveLength(
      2,
    );
  });

  it('reports an unreachable server clearly and keeps the outbox intact', async () => {
    runStatement(folder.store, "INSERT INTO account(name) VALUES ('offline')");
    const url = `http://127.0.0.1:${await closedPort()}`;
    const { code, err } = await cli('sync', '--server', url);
    expect(code).toBe(3);
    expect(err).toBe(
      `error: cannot reach the sync server at ${url}: ECONNREFUSED; your changes are safe in the outbox (1 file); try again when online\n`,
    );
    expect(fs.existsSync(path.join(agentPaths(folder.cfg.dir).outbox, outboxFileName(1)))).toBe(true);
    const status = JSON.parse((await cli('status', '--json')).out) as {
      outboxFiles: number;
      lastSync: { ok: boolean };
    };
    expect(status.outboxFiles).toBe(1);
    expect(status.lastSync.ok).toBe(false);
  });

  it('shows a server error with its code and correlation id', async () => {
    gateway.failPath = { path: '/v1/download', status: 503, code: 'DEPENDENCY_UNAVAILABLE' };
    const { code, err } = await cli('sync');
    expect(code).toBe(4);
    expect(err).toBe('error: refused by the fake (DEPENDENCY_UNAVAILABLE, correlation id corr-1)\n');
    expect(gateway.closedWith).toMatchObject({ result: { ok: false } });
  });

  it('waits for a pending extract, resumes a partial download with Range, applies, acknowledges and keeps conflicts', async () => {
    const extract = await downloadFile(1, 'extract', [upsert(5, ACCOUNT_A, 'From the server')]);
    gateway.addDownload(1, 'extract', extract, 1);
    gateway.pendingPolls = 1;
    const conflict: ConflictView = {
      id: 'k1',
      at: AT,
      kind: 'update-update',
      table: 'account',
      rowId: ACCOUNT_A,
      column: 'name',
      serverValue: 'a',
      clientValue: 'b',
      serverOrigin: null,
      clientOrigin: 'laptop-1',
      serverAt: AT,
      clientAt: AT,
      policy: 'server-wins',
      winner: 'server',
    };
    gateway.conflicts = [conflict];
    const half = Math.floor(extract.length / 2);
    fs.writeFileSync(path.join(agentPaths(folder.cfg.dir).inbox, '1-1.part'), extract.subarray(0, half));

    const { code, out, err } = await cli('sync', '--json');
    expect(err).toMatch(/waiting for the server to prepare the extract of client laptop-1/);
    expect(code).toBe(0);
    expect(gateway.ranges).toEqual([`bytes=${half}-`]);
    expect(JSON.parse(out)).toMatchObject({
      downloaded: { files: 1, txns: 1, bytes: extract.length },
      conflicts: 1,
    });
    expect(gateway.acks).toEqual([{ epoch: 1, upToFileSeq: 1 }]);
    expect(JSON.parse((await cli('query', 'SELECT name, row_version FROM account', '--json')).out)).toEqual([
      { name: 'From the server', row_version: 5 },
    ]);
    expect(fs.readdirSync(agentPaths(folder.cfg.dir).inbox)).toEqual([]);
    const status = JSON.parse((await cli('status', '--json')).out) as {
      conflicts: ConflictView[];
      download: unknown;
    };
    expect(status.conflicts).toEqual([conflict]);
    expect(status.download).toEqual({ epoch: 1, fileSeq: 1 });

    // The same file listed again (the ack was lost) is acknowledged without being applied twice.
    runStatement(folder.store, `UPDATE account SET name = 'Local edit'`);
    expect((await cli('sync', '--no-download')).code).toBe(0);
    expect((await cli('sync')).code).toBe(0);
    expect(gateway.acks).toHaveLength(2);
    expect(JSON.parse((await cli('query', 'SELECT name FROM account', '--json')).out)).toEqual([
      { name: 'Local edit' },
    ]);
  });

  const ACCOUNTS = [ACCOUNT_A, ACCOUNT_B, ACCOUNT_C];
  const names = async () =>
    JSON.parse((await cli('query', 'SELECT name FROM account ORDER BY name', '--json')).out) as unknown;

  it('applies every listed file in order and acknowledges them with one cumulative ack', async () => {
    for (let seq = 1; seq <= 3; seq++)
      gateway.addDownload(
        seq,
        'changes',
        await downloadFile(seq, 'changes', [upsert(seq, ACCOUNTS[seq - 1], `File ${seq}`)]),
        1,
      );

    const { code, out } = await cli('sync', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ downloaded: { files: 3, txns: 3 } });
    expect(await names()).toEqual([{ name: 'File 1' }, { name: 'File 2' }, { name: 'File 3' }]);
    expect(gateway.acks).toEqual([{ epoch: 1, upToFileSeq: 3 }]);
    expect(fs.readdirSync(agentPaths(folder.cfg.dir).inbox)).toEqual([]);
  });

  it('acknowledges the files applied before one that is not valid DX, and keeps the next one fetched', async () => {
    gateway.addDownload(1, 'changes', await downloadFile(1, 'changes', [upsert(1, ACCOUNT_A, 'File 1')]), 1);
    gateway.addDownload(2, 'changes', gzipSync('not a DX file\n'), 1);
    gateway.addDownload(3, 'changes', await downloadFile(3, 'changes', [upsert(3, ACCOUNT_C, 'File 3')]), 1);

    const { code, err } = await cli('sync');
    expect(code).not.toBe(0);
    expect(err).toMatch(/download file 2 \(epoch 1\) is not a valid DX file/);
    expect(await names()).toEqual([{ name: 'File 1' }]);
    expect(gateway.acks).toEqual([{ epoch: 1, upToFileSeq: 1 }]);
    // The damaged file is gone (fetched again next time); the next one arrived intact while file 2 was read.
    expect(fs.readdirSync(agentPaths(folder.cfg.dir).inbox)).toEqual(['1-3.dx']);
  });
});
