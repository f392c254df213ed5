import type { PoolClient } from 'pg';
import { RefusalCode } from '@outpost/contracts';
import type { DxRow } from '@outpost/dx-format';
import type { Schema, TableDef, VisibilityPlan, VisibilityRule } from '@outpost/schema';
import { rowKey, type IndexedTxn, type RowOutcome, type ServerRow } from './chunk-types';

/** One change of a file that is not applied, and why; recorded in sync_refusal. */
export interface Refusal {
  txn: IndexedTxn;
  code: RefusalCode;
  reason: string;
}

/** Row keys (rowKey) a user sees, read from the transaction's current state. */
export type Seen = ReadonlySet<string>;

/**
 * Rows whose values a check already knows in the state it reads (table -> id -> values), or null
 * where the row does not exist in that state (an insert, before its write; a delete, after it).
 */
export type KnownRows = ReadonlyMap<string, ReadonlyMap<string, DxRow | null>>;

function holds(rule: VisibilityRule, values: DxRow, login: string, proven: ReadonlySet<string>): boolean {
  if ('everyone' in rule) return true;
  if ('userColumn' in rule) return values[rule.userColumn] === login;
  if ('parent' in rule) {
    const fk = values[rule.parent.fk];
    return typeof fk === 'string' && proven.has(rowKey(rule.parent.table, fk));
  }
  return false; // via and referencedBy read other tables' rows: Postgres decides
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The only thing a refusal says about a row the user cannot see: not whether it exists, not whose it is. */
const NOT_YOURS = 'it does not exist or is not shared with you';

function what(t: IndexedTxn): string {
  return `transaction seq ${t.tx.seq} (${t.tx.op} of ${t.tx.table} ${t.tx.id})`;
}

/**
 * Write authorization of a laptop's changes, declared by the schema's visibility and write rules
 * and checked in the transaction that applies the file, the way Couchbase's sync function checks
 * the old document and not only the new one: the row as the server holds it decides whether the
 * user may touch it, the row as it would be afterwards decides whether the user may leave it so.
 *
 * Checks before the writes need only the loaded rows; checks after them (is an inserted row
 * visible, did a row the user could not see become visible, did a row leave the user's
 * visibility) read the visibility rules on the written state, inside a savepoint the caller rolls
 * back when anything is refused, so a refused change never touches a row.
 */
export class WriteGuard {
  constructor(
    private readonly schema: Schema,
    private readonly visibility: VisibilityPlan,
  ) {}

  /** Which of these rows (table -> ids) `login` sees on the transaction's current state. */
  async seen(
    db: PoolClient,
    login: string,
    rows: Map<string, Set<string>>,
    known: KnownRows = new Map(),
  ): Promise<Set<string>> {
    const out = new Set<string>();
    const proven = this.provenLocally(login, known);
    for (const [table, ids] of rows) {
      const valid: string[] = [];
      for (const id of ids) {
        const key = rowKey(table, id);
        if (proven.has(key)) out.add(key);
        else if (known.get(table)?.get(id) !== null && UUID.test(id)) valid.push(id);
      }
      if (valid.length === 0) continue;
      const res = await db.query<{ row_id: string }>(this.visibility.visibleToLoginSql(table), [
        valid,
        login,
      ]);
      for (const r of res.rows) out.add(rowKey(table, r.row_id));
    }
    return out;
  }

  /**
   * Rows whose visibility to `login` the known values alone prove: a rule that reads the row's own
   * columns (`userColumn`, `everyone`) holds, or a `parent` rule points at a row proven so. Only a
   * proof counts: a row not proven here is asked of Postgres, which has the last word. In an
   * upload of new accounts with their contacts, this settles nearly every row without a query.
   */
  private provenLocally(login: string, known: KnownRows): Set<string> {
    const proven = new Set<string>();
    if (known.size === 0) return proven;
    // Tables come parents first, so one pass sees a parent proven before its children.
    for (const table of this.schema.tables) {
      const rows = known.get(table.name);
      if (!rows) continue;
      for (const [id, values] of rows) {
        if (values && table.visibility.some((rule) => holds(rule, values, login, proven)))
          proven.add(rowKey(table.name, id));
      }
    }
    return proven;
  }

  /**
   * Refusals that the rows as the server holds them decide: writes a table does not allow, and
   * changes of rows the user cannot see (an insert of an id the server already holds is a change
   * of that row). `followed` holds rows whose insert was refused earlier in the file.
   */
  before(
    txns: IndexedTxn[],
    loaded: Map<string, ServerRow>,
    seen: Seen,
    followed: ReadonlySet<string>,
  ): Refusal[] {
    const refusals: Refusal[] = [];
    for (const t of txns) {
      const table = this.schema.table(t.tx.table);
      if (!table || !UUID.test(t.tx.id)) continue; // the resolver rejects the file with its position
      const key = rowKey(table.name, t.tx.id);
      const op = t.tx.op;
      if (followed.has(key)) {
        refusals.push({
          txn: t,
          code: RefusalCode.FollowsRefused,
          reason: `${what(t)}: an earlier change of this row in the same upload was refused, so this one cannot apply`,
        });
      } else if ((op === 'insert' || op === 'update' || op === 'delete') && !table.write[op]) {
        refusals.push({
          txn: t,
          code: RefusalCode.WriteNotAllowed,
          reason: `${what(t)}: laptops may not ${op} rows of ${table.name}; the server's copy stands`,
        });
      } else if (loaded.has(key) && !seen.has(key)) {
        refusals.push({
          txn: t,
          code: RefusalCode.NotVisible,
          reason: `${what(t)}: user "${t.tx.user}" cannot change this row: ${NOT_YOURS}`,
        });
      } else if (op === 'insert' && loaded.has(key) && !table.write.update) {
        refusals.push({
          txn: t,
          code: RefusalCode.WriteNotAllowed,
          reason: `${what(t)}: the row already exists and laptops may not update rows of ${table.name}`,
        });
      }
    }
    return refusals;
  }

  /** Rows the outcomes point to through a rule that could make them visible: team rows and referencing rows. */
  targets(outcomes: RowOutcome[]): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const o of outcomes) {
      if (!o.after) continue;
      for (const dep of this.visibility.fkDependencies) {
        if (dep.source !== o.table.name) continue;
        const target = o.after.values[dep.fk];
        if (typeof target !== 'string') continue;
        let ids = out.get(dep.target);
        if (!ids) out.set(dep.target, (ids = new Set()));
        ids.add(target);
      }
    }
    return out;
  }

  /**
   * Refusals that the written state decides. `seenBefore` covers the rows loaded and the targets
   * before the writes; `seenAfter` the outcomes and targets after them.
   */
  after(txns: IndexedTxn[], outcomes: RowOutcome[], seenBefore: Seen, seenAfter: Seen): Refusal[] {
    const byRow = new Map<string, IndexedTxn[]>();
    for (const t of txns) {
      const key = rowKey(t.tx.table, t.tx.id);
      const list = byRow.get(key);
      if (list) list.push(t);
      else byRow.set(key, [t]);
    }
    const created = new Set(
      outcomes.filter((o) => !o.before && o.after).map((o) => rowKey(o.table.name, o.id)),
    );
    const refusals: Refusal[] = [];
    for (const o of outcomes) {
      if (!o.after) continue;
      const key = rowKey(o.table.name, o.id);
      const mine = byRow.get(key) ?? [];
      if (!o.before) {
        if (!seenAfter.has(key)) refusals.push(...this.invisibleNewRow(o.table, mine));
        continue;
      }
      if (seenBefore.has(key) && !seenAfter.has(key) && !o.table.write.handOff) {
        const own = this.visibility.ownVisibilityColumns(o.table.name);
        for (const t of mine) {
          if (t.tx.op !== 'update' || !own.some((c) => c in (t.tx as { changes: object }).changes)) continue;
          refusals.push({
            txn: t,
            code: RefusalCode.HandOffNotAllowed,
            reason: `${what(t)}: the change would take the row out of user "${t.tx.user}"'s own visibility, which table ${o.table.name} does not allow; change it on the server or ask its new owner`,
          });
        }
      }
    }
    for (const o of outcomes) refusals.push(...this.gains(o, byRow, created, seenBefore, seenAfter));
    return dedupe(refusals);
  }

  /** An inserted (or resurrected) row the user would not see: every change of it in the chunk goes. */
  private invisibleNewRow(table: TableDef, mine: IndexedTxn[]): Refusal[] {
    return mine.map((t, i) => ({
      txn: t,
      code: i === 0 ? RefusalCode.InsertNotVisible : RefusalCode.FollowsRefused,
      reason:
        i === 0
          ? `${what(t)}: user "${t.tx.user}" would not see the new row of ${table.name}: set its owner to yourself or attach it to a row you can see`
          : `${what(t)}: an earlier change of this row in the same upload was refused, so this one cannot apply`,
    }));
  }

  /** Changes of `o` that would make a row the user could not see visible to the user. */
  private gains(
    o: RowOutcome,
    byRow: Map<string, IndexedTxn[]>,
    created: ReadonlySet<string>,
    seenBefore: Seen,
    seenAfter: Seen,
  ): Refusal[] {
    if (!o.after) return [];
    const out: Refusal[] = [];
    for (const dep of this.visibility.fkDependencies) {
      if (dep.source !== o.table.name) continue;
      const target = o.after.values[dep.fk];
      if (typeof target !== 'string') continue;
      const key = rowKey(dep.target, target);
      if (created.has(key) || seenBefore.has(key) || !seenAfter.has(key)) continue;
      for (const t of byRow.get(rowKey(o.table.name, o.id)) ?? []) {
        if (t.tx.op === 'delete') continue;
        out.push({
          txn: t,
          code: RefusalCode.GainsVisibility,
          reason: `${what(t)}: the change would give user "${t.tx.user}" access to ${dep.target} ${target}, which is not shared with you; ask its owner to share it`,
        });
      }
    }
    return out;
  }
}

function dedupe(refusals: Refusal[]): Refusal[] {
  const seen = new Set<number>();
  return refusals.filter((r) => {
    if (seen.has(r.txn.index)) return false;
    seen.add(r.txn.index);
    return true;
  });
}
