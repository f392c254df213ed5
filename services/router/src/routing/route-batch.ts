import type { FkDependency, VisibilityPlan } from '@outpost/schema';
import type { Queryable } from '../database/router-database';
import type { HoldingRef, LogEntry, RouteRepository, RowHead } from './route.repository';
import {
  decideRow,
  visibilityChanged,
  type Cause,
  type OutboundConfirm,
  type OutboundOp,
  type RowChange,
  type RowState,
} from './route-plan';

/** A client being routed in this batch and the log position it has been routed up to. */
export interface RouteTarget {
  name: string;
  fromSeq: number;
  epoch: number;
  nextFileSeq: number;
}

/** What one client receives from one batch, and how its holdings change. */
export interface ClientPlan {
  target: RouteTarget;
  confirm: OutboundConfirm | null;
  ops: OutboundOp[];
  hold: HoldingRef[];
  release: HoldingRef[];
}

/** Rows are read and decided this many at a time, so a cascade to a huge account stays bounded per query. */
const CHUNK = 5_000;
const NONE: ReadonlySet<string> = new Set();

interface ChangedRow {
  changes: RowChange[];
  ops: Set<LogEntry['op']>;
  oldRefs: Array<Record<string, unknown>>;
}

const key = (table: string, id: string): string => `${table}\u0000${id}`;

function causeOf(e: LogEntry): Cause {
  return { seq: e.seq, at: e.at.toISOString(), user: e.originUser ?? '' };
}

/**
 * Decides one batch of log entries for a set of clients on the current database state: each
 * changed row, plus every row whose visibility the batch may have changed (the rows a team row or
 * a referencing row points to, old and new; the children and referenced rows of a row that gained
 * or lost a client), is evaluated once against the clients' holdings.
 */
export class RouteBatch {
  private readonly plans = new Map<string, ClientPlan>();
  private readonly changed = new Map<string, ChangedRow>();
  private readonly pending = new Map<string, Map<string, Cause>>();
  private readonly evaluated = new Set<string>();
  private readonly clientNames: string[];

  constructor(
    private readonly repo: RouteRepository,
    private readonly snapshot: Queryable,
    private readonly visibility: VisibilityPlan,
    private readonly targets: RouteTarget[],
  ) {
    this.clientNames = targets.map((t) => t.name);
  }

  async plan(entries: LogEntry[]): Promise<ClientPlan[]> {
    const byName = new Map(this.targets.map((t) => [t.name, t]));
    for (const e of entries) {
      if (e.op === 'confirm') {
        const target = e.originClient === null ? undefined : byName.get(e.originClient);
        if (target && e.seq > target.fromSeq && e.originTxnSeq !== null) {
          const plan = this.planOf(target);
          if (!plan.confirm || plan.confirm.upTo < e.originTxnSeq)
            plan.confirm = { upTo: e.originTxnSeq, cause: causeOf(e) };
        }
        continue;
      }
      if (e.table === null || e.rowId === null) continue;
      const k = key(e.table, e.rowId);
      let row = this.changed.get(k);
      if (!row) this.changed.set(k, (row = { changes: [], ops: new Set(), oldRefs: [] }));
      row.changes.push({
        seq: e.seq,
        originClient: e.originClient,
        echo: e.echo,
        insert: e.op === 'insert',
        delete: e.op === 'delete',
      });
      row.ops.add(e.op);
      if (e.oldRefs) row.oldRefs.push(e.oldRefs);
      // Entries come in seq order, so the last one seen is the row's cause.
      this.pendingOf(e.table).set(e.rowId, causeOf(e));
    }
    while (this.pending.size > 0) {
      const wave = new Map(this.pending);
      this.pending.clear();
      for (const table of this.visibility.tableOrder) {
        const rows = wave.get(table);
        if (!rows) continue;
        // A row queued again while its first queueing was still waiting in this wave is evaluated once.
        const ids = [...rows.keys()].filter((id) => !this.evaluated.has(key(table, id)));
        for (let i = 0; i < ids.length; i += CHUNK) await this.evaluate(table, ids.slice(i, i + CHUNK), rows);
      }
    }
    return [...this.plans.values()];
  }

  private async evaluate(table: string, ids: string[], causes: Map<string, Cause>): Promise<void> {
    for (const id of ids) this.evaluated.add(key(table, id));
    // One snapshot connection: the three reads run one after another on it.
    const found = await this.repo.rowHeads(this.snapshot, table, ids);
    const recipients = await this.repo.recipients(this.snapshot, table, ids, this.clientNames);
    const holders = await this.repo.holders(this.snapshot, table, ids, this.clientNames);
    const rows = new Map(found.map((r) => [r.id, r]));
    const lostOrGained: string[] = [];
    for (const id of ids) {
      const cause = causes.get(id) as Cause;
      const changed = this.changed.get(key(table, id));
      const current = rows.get(id);
      const held = holders.get(id);
      const state: RowState = {
        exists: current !== undefined,
        recipients: recipients.get(id) ?? NONE,
        holders: held ? new Set(held.keys()) : NONE,
        heldVersions: held,
        version: current?.version,
        changes: changed?.changes ?? [],
      };
      for (const target of this.targets) {
        this.apply(target, table, id, decideRow(state, target.name, target.fromSeq), current, cause);
      }
      const moved = visibilityChanged(state, this.clientNames);
      if (moved) lostOrGained.push(id);
      for (const dep of this.visibility.fkDependencies) {
        if (dep.source === table) this.followFk(dep, current, changed, moved, cause);
      }
      if (moved && current) this.pullParents(table, current, cause);
    }
    if (lostOrGained.length === 0) return;
    for (const cascade of this.visibility.childCascades) {
      if (cascade.parent !== table) continue;
      for (const child of await this.repo.children(this.snapshot, cascade.child, cascade.fk, lostOrGained)) {
        this.add(cascade.child, child.id, causes.get(child.parent) as Cause);
      }
    }
  }

  /**
   * A child that a client newly sees implies its parent is visible too; the parent is evaluated in
   * the same batch, so a client that does not hold it yet gets it in the same file, before the child.
   */
  private pullParents(table: string, current: RowHead, cause: Cause): void {
    for (const cascade of this.visibility.childCascades) {
      const parent = cascade.child === table ? current.refs[cascade.fk] : undefined;
      if (typeof parent === 'string') this.add(cascade.parent, parent, cause);
    }
  }

  /** The row the source row points to (now, and before its changes) may have gained or lost a client. */
  private followFk(
    dep: FkDependency,
    current: RowHead | undefined,
    changed: ChangedRow | undefined,
    moved: boolean,
    cause: Cause,
  ): void {
    const now = current?.refs[dep.fk];
    const before = new Set<string>();
    for (const refs of changed?.oldRefs ?? []) {
      const old = refs[dep.fk];
      if (typeof old === 'string') before.add(old);
    }
    const repointed = [...before].some((old) => old !== now);
    const relevant =
      dep.kind === 'via'
        ? changed !== undefined
        : moved || repointed || (changed?.ops.has('insert') ?? false) || current === undefined;
    if (!relevant) return;
    if (typeof now === 'string') this.add(dep.target, now, cause);
    for (const old of before) this.add(dep.target, old, cause);
  }

  private apply(
    target: RouteTarget,
    table: string,
    id: string,
    action: ReturnType<typeof decideRow>,
    current: RowHead | undefined,
    cause: Cause,
  ): void {
    if (action === null) return;
    const plan = this.planOf(target);
    const ref = { table, id };
    switch (action) {
      case 'upsert': {
        const row = current as RowHead;
        plan.ops.push({ op: 'upsert', table, id, version: row.version, bytes: row.bytes, cause });
        plan.hold.push({ ...ref, version: row.version });
        return;
      }
      case 'hold':
        // The client made the change itself; which version it now has is known only once it is sent one.
        plan.hold.push({ ...ref, version: null });
        return;
      case 'delete':
      case 'evict':
        plan.ops.push({ op: action, table, id, cause });
        plan.release.push(ref);
        return;
      case 'forget':
        plan.release.push(ref);
        return;
    }
  }

  private add(table: string, id: string, cause: Cause): void {
    if (this.evaluated.has(key(table, id))) return;
    const rows = this.pendingOf(table);
    if (!rows.has(id)) rows.set(id, cause);
  }

  private pendingOf(table: string): Map<string, Cause> {
    let rows = this.pending.get(table);
    if (!rows) this.pending.set(table, (rows = new Map()));
    return rows;
  }

  private planOf(target: RouteTarget): ClientPlan {
    let plan = this.plans.get(target.name);
    if (!plan)
      this.plans.set(target.name, (plan = { target, confirm: null, ops: [], hold: [], release: [] }));
    return plan;
  }
}
