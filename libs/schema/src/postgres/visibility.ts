import type { Schema, TableDef, VisibilityRule } from '../types';

/**
 * Visibility rules compiled to Postgres SQL, generated from the declared rules (never per table):
 * the forward direction (which clients see these rows) drives routing, the inverse direction (every
 * row one user sees) drives extracts. The dependency lists tell the router which other rows a change
 * can make visible or invisible, so it recomputes exactly those.
 */

/** Rules that cannot be compiled (unknown tables or columns, dependency cycles); lists every problem. */
export class VisibilityCompileError extends Error {
  constructor(readonly problems: string[]) {
    super(`visibility rules cannot be compiled:\n  - ${problems.join('\n  - ')}`);
    this.name = 'VisibilityCompileError';
  }
}

/**
 * A change to a row of `source` affects the row of `target` whose id is in the source row's `fk`
 * (old and new value). `via`: any change of a team row (its user column too); `referencedBy`: a
 * new, deleted or re-pointed source row, or one whose own visibility changed.
 */
export interface FkDependency {
  kind: 'via' | 'referencedBy';
  source: string;
  fk: string;
  target: string;
}

/** When a row of `parent` gains or loses a client, so do the rows of `child` whose `fk` points to it. */
export interface ChildCascade {
  parent: string;
  child: string;
  fk: string;
}

export interface VisibilityPlan {
  /** Table names in foreign-key order (parents first), as the schema declares them. */
  readonly tableOrder: readonly string[];
  /** Rows of `source` whose change (or change of visibility) re-decides the visibility of the row they point to. */
  readonly fkDependencies: readonly FkDependency[];
  /** Parent rules, seen from the parent. */
  readonly childCascades: readonly ChildCascade[];
  /**
   * `$1 uuid[]`: ids of `table` → `(row_id text, client text)` for every active client that sees
   * the row on the current database state.
   */
  forwardClientsSql(table: string): string;
  /** `$1 uuid[]` → `(row_id text, user_login text)`: the user logins that see each row. */
  forwardLoginsSql(table: string): string;
  /** `$1 text` user login → `(id uuid)`: every row of `table` that user sees (CTEs in rule order). */
  inverseIdsSql(table: string): string;
  /** `$1 uuid[]`, `$2 text` user login → `(row_id text)`: which of these rows that user sees now. */
  visibleToLoginSql(table: string): string;
  /** Columns of `table` its own visibility rules read (user columns and parent foreign keys). */
  ownVisibilityColumns(table: string): readonly string[];
}

const q = (ident: string): string => `"${ident}"`;

export function compileVisibility(schema: Schema): VisibilityPlan {
  const problems = compileProblems(schema);
  if (problems.length > 0) throw new VisibilityCompileError(problems);
  return new CompiledVisibility(schema);
}

function compileProblems(schema: Schema): string[] {
  const problems: string[] = [];
  const hasColumn = (table: string, column: string): boolean =>
    schema.table(table)?.allColumns.some((c) => c.name === column) ?? false;
  const needColumn = (where: string, table: string, column: string): void => {
    if (!schema.table(table)) problems.push(`${where}: unknown table "${table}"`);
    else if (!hasColumn(table, column)) problems.push(`${where}: table "${table}" has no column "${column}"`);
  };
  for (const table of schema.tables) {
    const where = `table "${table.name}"`;
    if (table.visibility.length === 0)
      problems.push(`${where}: no visibility rule; add { everyone: true } for reference data`);
    for (const rule of table.visibility) {
      if ('everyone' in rule) continue;
      if ('userColumn' in rule) needColumn(where, table.name, rule.userColumn);
      else if ('via' in rule) {
        needColumn(`${where} via`, rule.via.table, rule.via.fk);
        needColumn(`${where} via`, rule.via.table, rule.via.userColumn);
      } else if ('parent' in rule) {
        if (!schema.table(rule.parent.table))
          problems.push(`${where} parent: unknown table "${rule.parent.table}"`);
        needColumn(`${where} parent`, table.name, rule.parent.fk);
      } else if ('referencedBy' in rule)
        needColumn(`${where} referencedBy`, rule.referencedBy.table, rule.referencedBy.fk);
      else problems.push(`${where}: unknown rule ${JSON.stringify(rule)}`);
    }
  }
  if (problems.length === 0) problems.push(...cycleProblems(schema));
  return problems;
}

/** Tables whose visibility a table's visibility is computed from (parent and referencedBy recurse; via does not). */
function ruleDependencies(table: TableDef): string[] {
  return table.visibility.flatMap((rule) => {
    if ('parent' in rule) return [rule.parent.table];
    if ('referencedBy' in rule) return [rule.referencedBy.table];
    return [];
  });
}

function cycleProblems(schema: Schema): string[] {
  const problems: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      problems.push(
        `visibility rules form a cycle: ${cycle.join(' -> ')}; a table's visibility cannot depend on itself through parent/referencedBy rules`,
      );
      return;
    }
    state.set(name, 'visiting');
    const table = schema.table(name);
    for (const dep of table ? ruleDependencies(table) : []) visit(dep, [...path, name]);
    state.set(name, 'done');
  };
  for (const table of schema.tables) visit(table.name, []);
  return problems;
}

/** A SQL predicate on a uuid column: which rows the query is about. */
type IdFilter = (column: string) => string;

class CompiledVisibility implements VisibilityPlan {
  readonly tableOrder: readonly string[];
  readonly fkDependencies: readonly FkDependency[];
  readonly childCascades: readonly ChildCascade[];
  private alias = 0;
  private readonly forwardCache = new Map<string, string>();
  private readonly loginsCache = new Map<string, string>();
  private readonly inverseCache = new Map<string, string>();
  private readonly loginCache = new Map<string, string>();

  constructor(private readonly schema: Schema) {
    this.tableOrder = schema.tables.map((t) => t.name);
    const fkDeps: FkDependency[] = [];
    const cascades: ChildCascade[] = [];
    for (const table of schema.tables) {
      for (const rule of table.visibility) {
        if ('via' in rule)
          fkDeps.push({ kind: 'via', source: rule.via.table, fk: rule.via.fk, target: table.name });
        if ('referencedBy' in rule) {
          fkDeps.push({
            kind: 'referencedBy',
            source: rule.referencedBy.table,
            fk: rule.referencedBy.fk,
            target: table.name,
          });
        }
        if ('parent' in rule)
          cascades.push({ parent: rule.parent.table, child: table.name, fk: rule.parent.fk });
      }
    }
    this.fkDependencies = fkDeps;
    this.childCascades = cascades;
  }

  forwardLoginsSql(table: string): string {
    return cached(this.loginsCache, table, () =>
      this.logins(this.def(table), (c) => `${c} = ANY($1::uuid[])`),
    );
  }

  forwardClientsSql(table: string): string {
    return cached(
      this.forwardCache,
      table,
      () =>
        `SELECT DISTINCT v.row_id::text AS row_id, c.name AS client FROM (${this.forwardLoginsSql(table)}) v ` +
        `JOIN sync_client c ON c.user_login = v.user_login AND c.status = 'active'`,
    );
  }

  visibleToLoginSql(table: string): string {
    return cached(
      this.loginCache,
      table,
      () =>
        // Joined to the table: a rule read through another row (referencedBy) names ids that may not exist.
        `SELECT DISTINCT v.row_id::text AS row_id FROM (${this.forwardLoginsSql(table)}) v ` +
        `JOIN ${q(table)} x ON x.id = v.row_id WHERE v.user_login = $2`,
    );
  }

  ownVisibilityColumns(table: string): readonly string[] {
    return this.def(table).visibility.flatMap((rule) => {
      if ('userColumn' in rule) return [rule.userColumn];
      if ('parent' in rule) return [rule.parent.fk];
      return [];
    });
  }

  inverseIdsSql(table: string): string {
    return cached(this.inverseCache, table, () => {
      const order = this.dependencyOrder(table);
      const ctes = order.map((name) => `${visName(name)} AS (${this.inverseRules(this.def(name))})`);
      return `WITH ${ctes.join(', ')} SELECT id FROM ${visName(table)}`;
    });
  }

  private def(name: string): TableDef {
    const table = this.schema.table(name);
    if (!table)
      throw new VisibilityCompileError([
        `unknown table "${name}"; known tables: ${this.tableOrder.join(', ')}`,
      ]);
    return table;
  }

  private next(base: string): string {
    this.alias += 1;
    return `${base}${this.alias}`;
  }

  /** `(row_id, user_login)` for the rows of `table` selected by `filter`, recursing through parent/referencedBy. */
  private logins(table: TableDef, filter: IdFilter): string {
    return table.visibility.map((rule) => this.ruleLogins(table, rule, filter)).join(' UNION ');
  }

  private ruleLogins(table: TableDef, rule: VisibilityRule, filter: IdFilter): string {
    const t = this.next('t');
    const from = `${q(table.name)} ${t}`;
    if ('everyone' in rule) {
      return (
        `SELECT ${t}.id AS row_id, e.user_login FROM ${from} ` +
        `CROSS JOIN (SELECT DISTINCT user_login FROM sync_client WHERE status = 'active') e WHERE ${filter(`${t}.id`)}`
      );
    }
    if ('userColumn' in rule) {
      const col = `${t}.${q(rule.userColumn)}`;
      return `SELECT ${t}.id AS row_id, ${col} AS user_login FROM ${from} WHERE ${filter(`${t}.id`)} AND ${col} IS NOT NULL`;
    }
    if ('via' in rule) {
      const v = this.next('v');
      const fk = `${v}.${q(rule.via.fk)}`;
      const user = `${v}.${q(rule.via.userColumn)}`;
      // Joined to the table: a team row outlives a deleted row it names, and must not keep its
      // children (reached through a parent rule) visible to the team.
      return (
        `SELECT ${fk} AS row_id, ${user} AS user_login FROM ${q(rule.via.table)} ${v} ` +
        `JOIN ${from} ON ${t}.id = ${fk} WHERE ${filter(fk)} AND ${user} IS NOT NULL`
      );
    }
    if ('parent' in rule) {
      const inner = this.next('t');
      const p = this.next('p');
      const fk = q(rule.parent.fk);
      const parentFilter: IdFilter = (c) =>
        `${c} IN (SELECT ${inner}.${fk} FROM ${q(table.name)} ${inner} WHERE ${filter(`${inner}.id`)})`;
      return (
        `SELECT ${t}.id AS row_id, ${p}.user_login FROM ${from} ` +
        `JOIN (${this.logins(this.def(rule.parent.table), parentFilter)}) ${p} ON ${p}.row_id = ${t}.${fk} WHERE ${filter(`${t}.id`)}`
      );
    }
    const r = this.next('r');
    const inner = this.next('r');
    const x = this.next('x');
    const source = q(rule.referencedBy.table);
    const fk = q(rule.referencedBy.fk);
    const sourceFilter: IdFilter = (c) =>
      `${c} IN (SELECT ${inner}.id FROM ${source} ${inner} WHERE ${filter(`${inner}.${fk}`)})`;
    // Joined to the table, as for via: a referencing row may point at a deleted row.
    return (
      `SELECT ${r}.${fk} AS row_id, ${x}.user_login FROM ${source} ${r} ` +
      `JOIN (${this.logins(this.def(rule.referencedBy.table), sourceFilter)}) ${x} ON ${x}.row_id = ${r}.id ` +
      `JOIN ${from} ON ${t}.id = ${r}.${fk} WHERE ${filter(`${r}.${fk}`)}`
    );
  }

  /** One CTE body: ids of `table` visible to the user login `$1`, from CTEs of the tables it depends on. */
  private inverseRules(table: TableDef): string {
    const name = q(table.name);
    return table.visibility
      .map((rule) => {
        // Every caller binds the login as $1: a query over reference data alone must still use it.
        if ('everyone' in rule) return `SELECT id FROM ${name} WHERE $1::text IS NOT NULL`;
        if ('userColumn' in rule) return `SELECT id FROM ${name} WHERE ${q(rule.userColumn)} = $1`;
        if ('via' in rule) {
          const { table: via, fk, userColumn } = rule.via;
          return `SELECT id FROM ${name} WHERE id IN (SELECT ${q(fk)} FROM ${q(via)} WHERE ${q(userColumn)} = $1)`;
        }
        if ('parent' in rule) {
          return `SELECT id FROM ${name} WHERE ${q(rule.parent.fk)} IN (SELECT id FROM ${visName(rule.parent.table)})`;
        }
        const { table: source, fk } = rule.referencedBy;
        return `SELECT id FROM ${name} WHERE id IN (SELECT ${q(fk)} FROM ${q(source)} WHERE id IN (SELECT id FROM ${visName(source)}))`;
      })
      .join(' UNION ');
  }

  /** `table` and every table its rules read, dependencies first (the rules are acyclic, checked at compile). */
  private dependencyOrder(table: string): string[] {
    const out: string[] = [];
    const visit = (name: string): void => {
      if (out.includes(name)) return;
      for (const dep of ruleDependencies(this.def(name))) visit(dep);
      out.push(name);
    };
    visit(table);
    return out;
  }
}

function visName(table: string): string {
  return q(`vis_${table}`);
}

function cached(cache: Map<string, string>, key: string, build: () => string): string {
  let sql = cache.get(key);
  if (sql === undefined) {
    sql = build();
    cache.set(key, sql);
  }
  return sql;
}
