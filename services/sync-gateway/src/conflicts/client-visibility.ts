import { Inject, Injectable } from '@nestjs/common';
import type { VisibilityPlan } from '@outpost/schema';
import { DataSource } from 'typeorm';
import { VISIBILITY } from '../infra/infra.tokens';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Which rows a client's user sees now, by the schema's visibility rules: the filter on anything shown to a laptop. */
@Injectable()
export class ClientVisibility {
  constructor(
    private readonly db: DataSource,
    @Inject(VISIBILITY) private readonly visibility: VisibilityPlan,
  ) {}

  /** `table\u0000id` of the given rows the client's user sees; nothing for an unknown client or table. */
  async visibleRows(client: string, rows: Array<{ table: string; id: string }>): Promise<Set<string>> {
    const out = new Set<string>();
    const found: Array<{ user_login: string }> = await this.db.query(
      'SELECT user_login FROM sync_client WHERE name = $1',
      [client],
    );
    if (found.length === 0) return out;
    const login = found[0].user_login;
    const byTable = new Map<string, Set<string>>();
    for (const { table, id } of rows) {
      if (!this.visibility.tableOrder.includes(table) || !UUID.test(id)) continue;
      const ids = byTable.get(table) ?? new Set<string>();
      byTable.set(table, ids.add(id));
    }
    for (const [table, ids] of byTable) {
      const seen: Array<{ row_id: string }> = await this.db.query(this.visibility.visibleToLoginSql(table), [
        [...ids],
        login,
      ]);
      for (const r of seen) out.add(rowRef(table, r.row_id));
    }
    return out;
  }
}

export function rowRef(table: string, id: string): string {
  return `${table}\u0000${id}`;
}
