import type { DxTransaction } from '@outpost/dx-format';
import type { OutboxWriter } from '../outbox/outbox-writer';
import type { ClientPlan } from './route-batch';
import { assignSeqs, orderOutbound, type OutboundOp } from './route-plan';
import type { OutboundFileRecord, RouteRepository } from './route.repository';

function toDx(op: OutboundOp, seq: number): DxTransaction {
  const base = { seq, at: op.cause.at, user: op.cause.user, table: op.table, id: op.id };
  switch (op.op) {
    case 'upsert':
      return { ...base, op: 'upsert', version: op.version, row: op.row };
    case 'delete':
      return { ...base, op: 'delete', base: null };
    case 'evict':
      return { ...base, op: 'evict' };
  }
}

/**
 * Turns one client's plan into DX files in its outbox (confirm first, split every `maxFileTxns`),
 * then commits files, holdings and position in one transaction. Objects are written before the
 * commit: a crash in between leaves unregistered objects that the retry overwrites.
 */
export async function deliverPlan(args: {
  plan: ClientPlan;
  upToSeq: number;
  lastDownloadSeq: number;
  tableOrder: readonly string[];
  maxFileTxns: number;
  outbox: OutboxWriter;
  repo: RouteRepository;
}): Promise<{ files: number; txns: number }> {
  const { plan, outbox, repo } = args;
  const ordered = orderOutbound(plan.ops, args.tableOrder);
  const causes = ordered.map((o) => o.cause.seq);
  if (plan.confirm) causes.unshift(plan.confirm.cause.seq);
  const seqs = assignSeqs(causes, args.lastDownloadSeq);
  const txs: DxTransaction[] = [];
  if (plan.confirm) {
    const { cause, upTo } = plan.confirm;
    txs.push({ seq: seqs[0], at: cause.at, user: cause.user, table: '', id: '', op: 'confirm', upTo });
  }
  const offset = txs.length;
  ordered.forEach((op, i) => txs.push(toDx(op, seqs[i + offset])));

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
    const written = await outbox.write(spec, chunk);
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
