import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { readDxFile, type DxTransaction } from '@outpost/dx-format';
import type { StormLaptop } from '../support/storm';

/**
 * Every change a laptop sent is applied exactly once, or is on record as refused or lost to a
 * conflict. Checked from both ends, per laptop:
 * - its sent upload files carry every transaction seq from 1 up, each once;
 * - the server holds each of those files (same number, same sha256) as applied, the files' seq
 *   ranges tile 1..N without overlap, and the client's apply position is N;
 * - each sent insert and delete left a trace: a server log entry of that client on the row, a conflict record
 *   of the client's file on the row, a refusal of that transaction seq, or (for a delete, or an
 *   insert the laptop deleted again) the row's deletion on the server;
 * - no row carries more of the client's changes in the server log than the laptop sent for it (a
 *   file or transaction applied twice would log its changes twice).
 */
export interface ExactlyOnceReport {
  laptop: string;
  /** Transactions sent. */
  sent: number;
  /** Changes missing: never applied, skipped seqs, files the server lacks or did not apply. */
  lost: string[];
  /** Changes applied more than once, or sent twice. */
  doubled: string[];
}

interface SentFile {
  name: string;
  sha256: string;
  fileSeq: number;
  txs: DxTransaction[];
}

export async function exactlyOnce(db: Pool, laptop: StormLaptop): Promise<ExactlyOnceReport> {
  const client = laptop.name;
  const files = await sentFiles(laptop);
  const lost: string[] = [];
  const doubled: string[] = [];
  const txs = files.flatMap((f) => f.txs.map((tx) => ({ file: f, tx })));

  // The laptop's side: seqs 1..N, each once.
  const seqCount = new Map<number, number>();
  for (const { tx } of txs) seqCount.set(tx.seq, (seqCount.get(tx.seq) ?? 0) + 1);
  const last = Math.max(0, ...seqCount.keys());
  for (let seq = 1; seq <= last; seq += 1) {
    const n = seqCount.get(seq) ?? 0;
    if (n === 0) lost.push(`transaction seq ${seq} is in no sent file`);
    if (n > 1) doubled.push(`transaction seq ${seq} is in ${n} sent files`);
  }

  // The server's side: each sent file held and applied once, ranges tiling 1..N.
  const inbox = (
    await db.query(
      `SELECT file_seq, sha256, status, first_seq, last_seq, txn_count FROM sync_inbox_file
        WHERE client = $1 ORDER BY file_seq`,
      [client],
    )
  ).rows as Array<{
    file_seq: number;
    sha256: string;
    status: string;
    first_seq: number;
    last_seq: number;
    txn_count: number;
  }>;
  const bySeq = new Map(inbox.map((r) => [r.file_seq, r]));
  for (const f of files) {
    const held = bySeq.get(f.fileSeq);
    if (!held) lost.push(`sent file ${f.name} (${f.txs.length} changes) is not on the server`);
    else if (held.sha256 !== f.sha256) lost.push(`the server holds other bytes as file ${f.fileSeq}`);
    else if (held.status !== 'applied') lost.push(`file ${f.fileSeq} is ${held.status} on the server`);
  }
  for (const r of inbox) {
    if (!files.some((f) => f.fileSeq === r.file_seq))
      doubled.push(`the server holds file ${r.file_seq} (${r.status}) that the laptop did not send`);
  }
  let next = 1;
  for (const r of inbox.filter((x) => x.txn_count > 0)) {
    if (r.first_seq < next) doubled.push(`file ${r.file_seq} starts at seq ${r.first_seq}, before ${next}`);
    if (r.first_seq > next)
      lost.push(`file ${r.file_seq} starts at seq ${r.first_seq}, after a gap from ${next}`);
    next = r.last_seq + 1;
  }
  const position = (await db.query(`SELECT txn_seq FROM sync_apply_position WHERE client = $1`, [client]))
    .rows[0] as { txn_seq: number } | undefined;
  if (Number(position?.txn_seq ?? 0) !== last)
    lost.push(
      `the server's apply position is ${position?.txn_seq ?? 'missing'}, the laptop sent up to ${last}`,
    );

  // Each change's trace, and no row with more logged changes than were sent.
  const logged = new Map<string, number>();
  for (const r of (
    await db.query(
      `SELECT table_name, row_id::text AS row_id, count(*)::int AS n FROM sync_txn_log
        WHERE origin_client = $1 AND NOT echo AND op <> 'confirm' GROUP BY table_name, row_id`,
      [client],
    )
  ).rows)
    logged.set(`${r.table_name}|${r.row_id}`, r.n);
  const conflicts = new Set(
    (
      await db.query(
        `SELECT table_name, row_id::text AS row_id, client_file_seq FROM sync_conflict WHERE client_origin = $1`,
        [client],
      )
    ).rows.map((r) => `${r.table_name}|${r.row_id}|${r.client_file_seq}`),
  );
  const refused = new Set(
    (await db.query(`SELECT txn_seq FROM sync_refusal WHERE client = $1`, [client])).rows.map((r) =>
      Number(r.txn_seq),
    ),
  );
  const sentPerRow = new Map<string, number>();
  const untraced: Array<{ seq: number; op: string; table: string; id: string }> = [];
  for (const { file, tx } of txs) {
    const row = `${tx.table}|${tx.id.toLowerCase()}`;
    sentPerRow.set(row, (sentPerRow.get(row) ?? 0) + 1);
    const traced =
      (logged.get(row) ?? 0) > 0 || conflicts.has(`${row}|${file.fileSeq}`) || refused.has(tx.seq);
    // An update to the value the server already holds writes nothing; updates are accounted for
    // by value instead (the storm's untracedValues).
    if (!traced && tx.op !== 'update')
      untraced.push({ seq: tx.seq, op: tx.op, table: tx.table, id: tx.id.toLowerCase() });
  }
  // A change with no trace of its own is still done when the row was deleted: a delete of a row
  // someone else deleted first writes nothing (the row may have come back since, by another
  // laptop's update of a resurrectable row), nor does an insert deleted again in the same file.
  const deletedHere = new Set(
    txs.filter(({ tx }) => tx.op === 'delete').map(({ tx }) => `${tx.table}|${tx.id.toLowerCase()}`),
  );
  for (const u of untraced) {
    const deletedOnServer =
      (
        await db.query(`SELECT 1 FROM sync_txn_log WHERE table_name = $1 AND row_id = $2 AND op = 'delete'`, [
          u.table,
          u.id,
        ])
      ).rowCount! > 0;
    const gone = (await db.query(`SELECT 1 FROM "${u.table}" WHERE id = $1`, [u.id])).rowCount === 0;
    const done = u.op === 'delete' ? deletedOnServer || gone : deletedHere.has(`${u.table}|${u.id}`) && gone;
    if (!done) lost.push(`seq ${u.seq} (${u.op} ${u.table} ${u.id}) left no trace on the server`);
  }
  for (const [row, n] of logged) {
    const sent = sentPerRow.get(row) ?? 0;
    if (n > sent) doubled.push(`${row}: ${n} changes of ${client} in the server log, ${sent} sent`);
  }
  return { laptop: client, sent: txs.length, lost, doubled };
}

async function sentFiles(laptop: StormLaptop): Promise<SentFile[]> {
  const dir = path.join(laptop.cfg.dir, 'outbox', 'sent');
  const out: SentFile[] = [];
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.dx'))
    .sort()) {
    const file = path.join(dir, name);
    const reader = readDxFile(file);
    const header = await reader.header();
    const txs: DxTransaction[] = [];
    for await (const tx of reader) txs.push(tx);
    out.push({
      name,
      fileSeq: header.fileSeq,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
      txs,
    });
  }
  return out;
}
