import type { DxChange, DxUploadTransaction } from '@outpost/dx-format';
import { Schema, SqliteTableCodec, SqliteValueError } from '@outpost/schema';
import { AgentError, AgentErrorCode } from '../errors';
import { LogEntry } from '../local-store/log.repository';

/**
 * Turns captured log entries into upload transactions. Pure and deterministic: the same entries give the
 * same transactions, which is what makes a lost outbox file regenerate byte for byte.
 */
export class UploadTransactionBuilder {
  private readonly codecs = new Map<string, SqliteTableCodec>();

  constructor(
    private readonly schema: Schema,
    private readonly user: string,
  ) {}

  build(entry: LogEntry): DxUploadTransaction {
    try {
      return this.convert(entry);
    } catch (err) {
      if (!(err instanceof SqliteValueError)) throw err;
      throw new AgentError(
        AgentErrorCode.ValueInvalid,
        `local change #${entry.seq} (${entry.op} ${entry.table_name} ${entry.row_id}) cannot be sent: ${err.message}. ` +
          `A program wrote a value the column type does not allow; correct it in _outpost_log (seq ${entry.seq}) and in the row, ` +
          'then run the command again. Later changes wait behind it so that none is skipped.',
        { seq: entry.seq, table: err.table, column: err.column },
      );
    }
  }

  private convert(entry: LogEntry): DxUploadTransaction {
    const codec = this.codec(entry.table_name);
    const base = {
      seq: entry.seq,
      at: new Date(Math.round(entry.at * 1000)).toISOString(),
      user: this.user,
      table: entry.table_name,
      id: entry.row_id,
    };
    switch (entry.op) {
      case 'insert':
        return {
          ...base,
          op: 'insert',
          row: codec.rowToDx(JSON.parse(entry.row_json ?? '{}') as Record<string, unknown>),
        };
      case 'update': {
        const raw = JSON.parse(entry.changes_json ?? '{}') as Record<string, { old: unknown; new: unknown }>;
        const changes: Record<string, DxChange> = {};
        for (const [column, change] of Object.entries(raw)) {
          const c = codec.column(column);
          changes[column] = { old: c.toDx(change.old), new: c.toDx(change.new) };
        }
        return { ...base, op: 'update', base: entry.base_version, changes };
      }
      case 'delete':
        return { ...base, op: 'delete', base: entry.base_version };
    }
  }

  private codec(table: string): SqliteTableCodec {
    let codec = this.codecs.get(table);
    if (!codec) {
      const def = this.schema.table(table);
      if (!def)
        throw new AgentError(
          AgentErrorCode.ValueInvalid,
          `the local log names table "${table}", which is not in schema "${this.schema.name}"`,
        );
      codec = new SqliteTableCodec(def);
      this.codecs.set(table, codec);
    }
    return codec;
  }
}
