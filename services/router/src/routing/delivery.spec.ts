import type { DxTransaction } from '@outpost/dx-format';
import type { OutboxWriter, OutboxFileSpec } from '../outbox/outbox-writer';
import { deliverPlan, type RowSource } from './delivery';
import type { ClientPlan } from './route-batch';
import type { OutboundOp } from './route-plan';
import type { CurrentRow, RouteRepository } from './route.repository';

const cause = (seq: number) => ({ seq, at: '2026-01-01T00:00:00.000Z', user: 'alice' });
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const upsert = (table: string, n: number, bytes: number): OutboundOp => ({
  op: 'upsert',
  table,
  id: id(n),
  version: n,
  bytes,
  cause: cause(n),
});

/** Collects what would be written to the outbox, file by file, as the writer pulls it. */
function fakeOutbox(pulled: string[]) {
  const files: Array<{ spec: OutboxFileSpec; txs: DxTransaction[] }> = [];
  const outbox = {
    async write(spec: OutboxFileSpec, txs: AsyncIterable<DxTransaction>) {
      const file = { spec, txs: [] as DxTransaction[] };
      for await (const tx of txs) {
        pulled.push(`tx ${tx.seq}`);
        file.txs.push(tx);
      }
      files.push(file);
      return { objectKey: `k${spec.fileSeq}`, sha256: 'x', size: 1 };
    },
  };
  return { files, outbox: outbox as unknown as OutboxWriter };
}

function plan(ops: OutboundOp[], withConfirm = false): ClientPlan {
  return {
    target: { name: 'c1', fromSeq: 0, epoch: 1, nextFileSeq: 1 },
    confirm: withConfirm ? { upTo: 7, cause: cause(1) } : null,
    ops,
    hold: [],
    release: [],
  };
}

describe('deliverPlan', () => {
  const commitClient = jest.fn(async () => undefined);
  const repo = { commitClient } as unknown as RouteRepository;
  const pulled: string[] = [];
  const rows: RowSource = async (table, ids) => {
    pulled.push(`read ${table} ${ids.length}`);
    return ids.map((i): CurrentRow => ({ id: i, version: Number(i.slice(-12)), row: { id: i } }));
  };

  beforeEach(() => {
    pulled.length = 0;
    commitClient.mockClear();
  });

  it('reads the rows a page of bounded bytes at a time, as the file is written', async () => {
    const ops = [1, 2, 3, 4, 5].map((n) => upsert('contact', n + 10, 40));
    ops.push(upsert('account', 2, 1_000), { op: 'evict', table: 'account', id: id(3), cause: cause(30) });
    const { files, outbox } = fakeOutbox(pulled);
    const result = await deliverPlan({
      plan: plan(ops, true),
      upToSeq: 30,
      lastDownloadSeq: 0,
      tableOrder: ['account', 'contact'],
      maxFileTxns: 100,
      fetchBytes: 100,
      rows,
      outbox,
      repo,
    });
    expect(result).toEqual({ files: 1, txns: 8 });
    // A row larger than a page is read alone; pages never mix tables; each page is read just before its rows are written.
    expect(pulled).toEqual([
      'tx 1',
      'read account 1',
      'tx 2',
      'read contact 2',
      'tx 11',
      'tx 12',
      'read contact 2',
      'tx 13',
      'tx 14',
      'read contact 1',
      'tx 15',
      'tx 30',
    ]);
    const txs = files[0].txs;
    expect(txs.map((t) => t.op)).toEqual(['confirm', ...Array(6).fill('upsert'), 'evict']);
    expect(txs[1]).toMatchObject({
      op: 'upsert',
      table: 'account',
      id: id(2),
      version: 2,
      row: { id: id(2) },
    });
    expect(commitClient).toHaveBeenCalledWith(expect.objectContaining({ nextFileSeq: 2, fromSeq: 30 }));
  });

  it('splits files by transactions and reads no page across them', async () => {
    const { files, outbox } = fakeOutbox(pulled);
    await deliverPlan({
      plan: plan([1, 2, 3].map((n) => upsert('contact', n, 10))),
      upToSeq: 3,
      lastDownloadSeq: 0,
      tableOrder: ['contact'],
      maxFileTxns: 2,
      fetchBytes: 1_000,
      rows,
      outbox,
      repo,
    });
    expect(files.map((f) => f.txs.map((t) => t.seq))).toEqual([[1, 2], [3]]);
    expect(pulled.filter((p) => p.startsWith('read'))).toEqual(['read contact 2', 'read contact 1']);
  });

  it('fails rather than send a row other than the one decided on', async () => {
    const { outbox } = fakeOutbox(pulled);
    await expect(
      deliverPlan({
        plan: plan([upsert('contact', 1, 10)]),
        upToSeq: 1,
        lastDownloadSeq: 0,
        tableOrder: ['contact'],
        maxFileTxns: 10,
        fetchBytes: 1_000,
        rows: async () => [],
        outbox,
        repo,
      }),
    ).rejects.toThrow(/version none where the plan decided on 1/);
    expect(commitClient).not.toHaveBeenCalled();
  });
});
