import { once } from 'node:events';
import { readDxFile } from './reader';
import { DxLimits } from './limits';
import { DxHeader, DxTransaction, DxValue } from './types';
import { isDxBigInt, isDxDate, isDxDecimal, isDxJson, isDxTimestamp } from './values';

export interface InspectOptions {
  /** JSON lines (the header object, then one object per transaction) instead of the human form. */
  json: boolean;
  limits?: Partial<DxLimits>;
}

/**
 * Prints a DX file as `sync-agent dx inspect FILE [--json]` shows it. Lines are printed as the file is
 * read; a DxFormatError is thrown (after the lines before the problem were printed) when the file is invalid.
 */
export async function inspectDx(
  path: string,
  out: NodeJS.WritableStream,
  opts: InspectOptions,
): Promise<void> {
  const reader = readDxFile(path, opts.limits);
  const header = await reader.header();
  await print(out, opts.json ? JSON.stringify(header) + '\n' : formatHeader(header));
  for await (const tx of reader) {
    await print(out, opts.json ? JSON.stringify(tx) + '\n' : formatTransaction(tx) + '\n');
  }
  if (!opts.json) {
    const { count, sha256, bytes } = reader.summary();
    await print(
      out,
      `-- ${count} transaction${count === 1 ? '' : 's'}, checksum verified; file ${bytes} bytes, sha256 ${sha256}\n`,
    );
  }
}

async function print(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out as NodeJS.EventEmitter, 'drain');
}

export function formatHeader(h: DxHeader): string {
  const rows: [string, string | number][] = [
    ['format', `${h.format} v${h.version}`],
    ['client', h.client],
    ['direction', h.direction],
    ['fileSeq', h.fileSeq],
  ];
  if (h.kind !== undefined) rows.push(['kind', h.kind]);
  if (h.epoch !== undefined) rows.push(['epoch', h.epoch]);
  if (h.schemaVersion !== undefined) rows.push(['schema', `v${h.schemaVersion}`]);
  rows.push(
    ['seq', h.count === 0 ? '(none)' : `${h.firstSeq}..${h.lastSeq}`],
    ['count', h.count],
    ['createdAt', h.createdAt],
  );
  return rows.map(([name, value]) => `${name.padEnd(10)} ${value}\n`).join('') + '\n';
}

/** One line: seq, time, user, op, table and row id, then what changed. */
export function formatTransaction(tx: DxTransaction): string {
  const head = `#${tx.seq} ${tx.at} ${tx.user || '-'} ${tx.op}`;
  switch (tx.op) {
    case 'insert':
      return `${head} ${tx.table} ${tx.id} ${formatRow(tx.row)}`;
    case 'update': {
      const changes = Object.entries(tx.changes).map(
        ([c, { old, new: now }]) => `${c}: ${formatValue(old)} -> ${formatValue(now)}`,
      );
      return `${head} ${tx.table} ${tx.id} base=${tx.base ?? 'null'} ${changes.join(', ')}`;
    }
    case 'delete':
      return `${head} ${tx.table} ${tx.id} base=${tx.base ?? 'null'}`;
    case 'upsert':
      return `${head} ${tx.table} ${tx.id} version=${tx.version} ${formatRow(tx.row)}`;
    case 'evict':
      return `${head} ${tx.table} ${tx.id}`;
    case 'confirm':
      return `${head} upTo=${tx.upTo}`;
  }
}

function formatRow(row: Record<string, DxValue>): string {
  return Object.entries(row)
    .map(([column, value]) => `${column}=${formatValue(value)}`)
    .join(' ');
}

/** Strings are quoted, so a string and a typed value with the same text stay distinguishable. */
export function formatValue(value: DxValue): string {
  if (isDxDecimal(value)) return value.$dec;
  if (isDxDate(value)) return value.$date;
  if (isDxTimestamp(value)) return value.$ts;
  if (isDxBigInt(value)) return value.$int;
  if (isDxJson(value)) return `json:${JSON.stringify(value.$json)}`;
  return JSON.stringify(value);
}
