import { Inject, Injectable } from '@nestjs/common';
import { type Pool, type PoolClient, types } from 'pg';
import { createPgPool } from '@outpost/server-db';
import type { RouterConfig } from '../config/router.config';
import { ROUTER_CONFIG } from '../router.tokens';

// Log seqs and row versions are bigint; they stay far below 2^53, so plain numbers are safe and cheap.
const INT8_OID = 20;

/** A connection or a transaction: both run the routing queries. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** The router's Postgres pool; transactions and cursors need a dedicated connection, which `pg` gives directly. */
@Injectable()
export class RouterDatabase implements Queryable {
  readonly pool: Pool;

  constructor(@Inject(ROUTER_CONFIG) config: RouterConfig) {
    this.pool = createPgPool({
      connectionString: config.databaseUrl,
      max: 4,
      application_name: 'outpost-router',
    });
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    const res = await this.pool.query({
      text: sql,
      values: params,
      types: { getTypeParser: bigintAsNumber },
    });
    return res.rows as R[];
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async transaction<T>(work: (tx: Tx) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(begin);
      try {
        const result = await work(new Tx(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export class Tx implements Queryable {
  constructor(readonly client: PoolClient) {}

  async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    const res = await this.client.query({
      text: sql,
      values: params,
      types: { getTypeParser: bigintAsNumber },
    });
    return res.rows as R[];
  }
}

function bigintAsNumber(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === INT8_OID) return Number;
  return types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
}
