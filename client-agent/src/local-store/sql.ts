import { AgentError, AgentErrorCode } from '../errors';
import { LocalStore } from './local-store';

function prepare(store: LocalStore, sql: string) {
  try {
    return store.db.prepare(sql);
  } catch (err) {
    throw sqlError(err, sql);
  }
}

function sqlError(err: unknown, sql: string): AgentError {
  const message = (err as Error).message;
  const hint = /more than one statement/.test(message) ? ' (pass one statement per command)' : '';
  const sqliteCode = (err as { code?: unknown }).code;
  const code = typeof sqliteCode === 'string' && sqliteCode.startsWith('SQLITE_') ? ` [${sqliteCode}]` : '';
  return new AgentError(AgentErrorCode.SqlFailed, `SQL failed${code}: ${message}${hint}\n  in: ${sql}`);
}

/** One write, through the capture triggers like any program's; returns the rows it changed. */
export function runStatement(store: LocalStore, sql: string): number {
  const stmt = prepare(store, sql);
  if (stmt.reader)
    throw new AgentError(
      AgentErrorCode.SqlFailed,
      'this statement returns rows: use "sync-agent query" for it',
    );
  try {
    return stmt.run().changes;
  } catch (err) {
    throw sqlError(err, sql);
  }
}

export function runQuery(
  store: LocalStore,
  sql: string,
): { columns: string[]; rows: Record<string, unknown>[] } {
  const stmt = prepare(store, sql);
  if (!stmt.reader)
    throw new AgentError(
      AgentErrorCode.SqlFailed,
      'this statement returns no rows: use "sync-agent exec" for writes',
    );
  try {
    const rows = stmt.all() as Record<string, unknown>[];
    return { columns: stmt.columns().map((c) => c.name), rows };
  } catch (err) {
    throw sqlError(err, sql);
  }
}

/** A plain aligned table for people; scripts use --json. */
export function formatTable(columns: string[], rows: Record<string, unknown>[]): string {
  const cell = (v: unknown) =>
    v === null || v === undefined ? 'NULL' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join(' | ')
      .trimEnd();
  const out = [line(columns), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)];
  out.push(`(${rows.length} row${rows.length === 1 ? '' : 's'})`);
  return `${out.join('\n')}\n`;
}
