import type { DxRow, DxTransaction } from '@outpost/dx-format';
import type { OutboxWriter } from '../outbox/outbox-writer';
import type { ClientPlan } from './route-batch';
import { assignSeqs, orderOutbound, type OutboundConfirm, type OutboundOp } from './route-plan';
import type { CurrentRow, OutboundFileRecord, RouteRepository } from './route.repository';

/** Reads rows by id on the snapshot the plan was decided on. */
export type RowSource = (table: string, ids: string[]) => Promise<CurrentRow[]>;

/** Rows read per query at most, however small they are (the `= ANY($1)` array stays reasonable). */
const PAGE_ROWS = 5_000;

type Upsert = Extract<OutboundOp, { op: 'upsert' }>;
/** A transaction of the file before its row is read: the confirm or an outbound op. */
type Item = OutboundOp | ({ op: 'confirm' } & OutboundConfirm);

interface Numbered {
  seq: number;
  item: Item;
}

function toDx({ seq, item }: Numbered, row: DxRow | null): DxTransaction {
  const base = { seq, at: item.cause.at, user: item.cause.user };
  switch (item.op) {
    case 'confirm':
      return { ...base, table: '', id: '', op: 'confirm', upTo: item.upTo };
    case 'upsert':
      if (!row) throw new Error(`row ${item.table} ${item.id} was not read`);
      return { ...base, table: item.table, id: item.id, op: 'upsert', version: item.version, row };
    case 'delete':
      return { ...base, table: item.table, id: item.id, op: 'delete', base: null };
    case 'evict':
      return { ...base, table: item.table, id: item.id, op: 'evict' };
  }
}

/** The upserts of one table from `start` on whose estimated sizes add up to `maxBytes` (one at least). */
function upsertPage(txs: readonly Numbered[], start: number, maxBytes: number): Upsert[] {
  const page: Upsert[] = [];
  let bytes = 0;
  for (let i = start; i < txs.length && page.length < PAGE_ROWS; i++) {
    const op = txs[i].item;
    if (op.op !== 'upsert' || (page.length > 0 && op.table !== page[0].table)) break;
    if (page.length > 0 && bytes + op.bytes > maxBytes) break;
    bytes += op.bytes;
    page.push(op);
  }
  return page;
}

/**
 * One file's transactions, its rows read a page of at most `fetchBytes` (estimated) at a time as
 * the writer takes them: a file of large rows never has more than a page of them in memory.
 */
async function* fileTransactions(
  txs: readonly Numbered[],
  rows: RowSource,
  fetchBytes: number,
): AsyncGenerator<DxTransaction> {
  for (let i = 0; i < txs.length;) {
    const page = upsertPage(txs, i, fetchBytes);
    if (page.length === 0) {
      yield toDx(txs[i], null);
      i += 1;
      continue;
    }
    const found = new Map(
      (
        await rows(
          page[0].table,
          page.map((o) => o.id),
        )
      ).map((r) => [r.id, r]),
    );
    for (const op of page) {
      const row = found.get(op.id);
      // The plan and the rows come from one snapshot: a difference is a bug, not a race.
      if (row?.version !== op.version) {
        throw new Error(
          `row ${op.table} ${op.id} is at version ${row?.version ?? 'none'} where the plan decided on ${op.version}`,
        );
      }
      yield toDx(txs[i], row.row);
      i += 1;
    }
  }
}

/**
 * Turns one client's plan into DX files in its outbox (confirm first, split every `maxFileTxns`),
 * then commits files, holdings and position in one transaction. Objects are written before the
 * commit: a crash in between leaves unregistered objects that the retry overwrites. `rows` must
 * read the snapshot the plan was decided on.
 */
export async function deliverPlan(args: {
  plan: ClientPlan;
  upToSeq: number;
  lastDownloadSeq: number;
  tableOrder: readonly string[];
  maxFileTxns: number;
  fetchBytes: number;
  rows: RowSource;
  outbox: OutboxWriter;
  repo: RouteRepository;
}): Promise<{ files: number; txns: number }> {
  const { plan, outbox, repo } = args;
  const items: Item[] = orderOutbound(plan.ops, args.tableOrder);
  if (plan.confirm) items.unshift({ op: 'confirm', ...plan.confirm });
  const seqs = assignSeqs(
    items.map((o) => o.cause.seq),
    args.lastDownloadSeq,
  );
  const txs: Numbered[] = items.map((item, i) => ({ seq: seqs[i], item }));

  const files: OutboundFileRecord[] = [];
  let fileSeq = plan.target.nextFileSeq;
  for (let i = 0; i < txs.length; i += args.maxFileTxns) {
    const chunk = txs.slice(i, i + args.maxFileTxns);
    const spec = {
      client: plan.target.name,
      epoch: plan.target.epoch,
      fileSeq,
      kind: 'changes' as const,
      firstSeq: chunk[0].seq,
      lastSeq: chunk[chunk.length - 1].seq,
      count: chunk.length,
    };
    const written = await outbox.write(spec, fileTransactions(chunk, args.rows, args.fetchBytes));
    files.push({
      ...spec,
      objectKey: written.objectKey,
      sha256: written.sha256,
      size: written.size,
      txnCount: chunk.length,
    });
    fileSeq += 1;
  }
  await repo.commitClient({
    client: plan.target.name,
    files,
    hold: plan.hold,
    release: plan.release,
    nextFileSeq: fileSeq,
    fromSeq: args.upToSeq,
  });
  return { files: files.length, txns: txs.length };
}
