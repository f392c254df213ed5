import { Injectable, Inject } from '@nestjs/common';
import type { Pgoutput } from 'pg-logical-replication';
import {
  CAPTURE_MESSAGE_PREFIX,
  visibilityColumns,
  type CaptureMessage,
  type ColumnType,
  type Schema,
} from '@outpost/schema';
import { SYNC_SCHEMA } from '../router.tokens';

/** One row of sync_txn_log as the capture writes it (seq is drawn on insert, in this order). */
export interface CapturedRow {
  at: Date;
  table: string | null;
  rowId: string | null;
  op: 'insert' | 'update' | 'delete' | 'confirm';
  originClient: string | null;
  originUser: string | null;
  originTxnSeq: number | null;
  echo: boolean;
  oldRefs: Record<string, unknown> | null;
  oldRow: Record<string, unknown> | null;
  /** Roughly what the row holds in memory until it is logged (its old values' text). */
  bytes: number;
}

/** Fixed cost counted for each held row besides its values. */
const ITEM_BYTES = 100;

/** Text length of a decoded row's values (pgoutput's text is kept, so values are strings). */
function valuesBytes(row: Record<string, unknown> | null | undefined): number {
  let bytes = 0;
  if (row) for (const value of Object.values(row)) bytes += typeof value === 'string' ? value.length : 8;
  return bytes;
}

interface TableShape {
  refs: string[];
  types: Map<string, ColumnType>;
}

/** Where a decoded transaction stands: its commit time and the origin the applier announced. */
export interface TxnContext {
  at: Date;
  originClient: string | null;
  originUser: string | null;
}

/**
 * Turns the decoded stream of one transaction into log rows: one per row change of a synced table
 * (old visibility values for updates and deletes, the whole old row for deletes) and the rows the
 * applier's messages stand for (confirm, echo). Values arrive as Postgres text (the capture keeps
 * pgoutput's text untouched), so a deleted row's JSON is what `jsonb_populate_record` reads back.
 */
@Injectable()
export class ChangeDecoder {
  private readonly tables = new Map<string, TableShape>();

  constructor(@Inject(SYNC_SCHEMA) schema: Schema) {
    for (const table of schema.tables) {
      this.tables.set(table.name, {
        refs: visibilityColumns(schema, table),
        types: new Map(table.columns.map((c) => [c.name, c.type])),
      });
    }
  }

  begin(msg: Pgoutput.MessageBegin): TxnContext {
    return { at: new Date(Number(msg.commitTime) / 1000), originClient: null, originUser: null };
  }

  /** The log row of a row change, or null for a table that is not synced. */
  change(
    ctx: TxnContext,
    msg: Pgoutput.MessageInsert | Pgoutput.MessageUpdate | Pgoutput.MessageDelete,
  ): CapturedRow | null {
    const shape = this.tables.get(msg.relation.name);
    if (!shape || msg.relation.schema !== 'public') return null;
    const old = msg.tag === 'insert' ? null : (msg.old ?? msg.key);
    const source = msg.tag === 'delete' ? old : msg.tag === 'update' ? (old ?? msg.new) : msg.new;
    const rowId = (source?.id as string | undefined) ?? null;
    if (rowId === null) return null;
    const oldRefs = old ? Object.fromEntries(shape.refs.map((c) => [c, old[c] ?? null])) : null;
    const keepsOld = msg.tag === 'delete' && old;
    return {
      at: ctx.at,
      table: msg.relation.name,
      rowId,
      op: msg.tag,
      originClient: ctx.originClient,
      originUser: ctx.originUser,
      originTxnSeq: null,
      echo: false,
      oldRefs,
      oldRow: keepsOld ? this.typed(shape, old) : null,
      bytes: ITEM_BYTES + valuesBytes(oldRefs) + (keepsOld ? valuesBytes(old) : 0),
    };
  }

  /** Applies an applier message to the transaction context; returns the log rows it stands for. */
  message(ctx: TxnContext, msg: Pgoutput.MessageMessage): CapturedRow[] {
    if (msg.prefix !== CAPTURE_MESSAGE_PREFIX) return [];
    // The content is the capture's own copy (stream-parse.ts): read in place.
    const { buffer, byteOffset, byteLength } = msg.content;
    const body = JSON.parse(Buffer.from(buffer, byteOffset, byteLength).toString('utf8')) as CaptureMessage;
    const base = { at: ctx.at, oldRefs: null, oldRow: null, bytes: ITEM_BYTES };
    switch (body.kind) {
      case 'origin':
        ctx.originClient = body.client;
        ctx.originUser = body.user;
        return [];
      case 'confirm':
        return [
          {
            ...base,
            table: null,
            rowId: null,
            op: 'confirm',
            originClient: body.client,
            originUser: null,
            originTxnSeq: body.upTo,
            echo: false,
          },
        ];
      case 'echo':
        return body.rows.map((r) => ({
          ...base,
          table: r.table,
          rowId: r.id,
          op: r.op,
          originClient: body.client,
          originUser: r.user,
          originTxnSeq: body.upTo,
          echo: true,
        }));
    }
  }

  /** Postgres text as to_jsonb would have written it: JSON documents and booleans typed, the rest text. */
  private typed(shape: TableShape, row: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(row)) {
      if (raw === null || raw === undefined) {
        out[name] = null;
        continue;
      }
      const type = shape.types.get(name);
      if (type === 'json') out[name] = JSON.parse(String(raw));
      else if (type === 'boolean') out[name] = raw === 't' || raw === true;
      else out[name] = raw;
    }
    return out;
  }
}
