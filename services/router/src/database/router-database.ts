import { Inject, Injectable } from '@nestjs/common';
import { type Pool, type PoolClient, types } from 'pg';
import { createPgPool } from '@outpost/server-db';
import type { RouterConfig } from '../config/router.config';
import { ROUTER_CONFIG } from '../router.tokens';

// Log seqs and row versions are bigint; they stay far below 2^53, so plain numbers are safe and cheap.
const INT8_OID = 20;

/**
 * Postgres is stopping or restarting: admin_shutdown (its backends are being terminated),
 * crash_shutdown, cannot_connect_now (shutting down or starting up).
 */
const GOING_AWAY = new Set(['57P01', '57P02', '57P03']);

export function serverGoingAway(err: unknown): boolean {
  return GOING_AWAY.has((err as { code?: unknown } | null)?.code as string);
}

/** A connection or a transaction: both run the routing queries. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
}

/** The router's Postgres pool; transactions and cursors need a dedicated connection, which `pg` gives directly. */
@Injectable()
export class RouterDatabase implements Queryable {
  readonly pool: Pool;
  private readonly goingAway: Array<(err: Error) => void> = [];

  constructor(@Inject(ROUTER_CONFIG) config: RouterConfig) {
    this.pool = createPgPool({
      connectionString: config.databaseUrl,
      max: 4,
      application_name: 'outpost-router',
    });
    this.pool.on('error', (err: Error) => this.noticeFailure(err));
  }

  /**
   * Called when a connection or query fails because Postgres is shutting down or restarting. The
   * capture ends its replication stream then: a fast shutdown waits for every WAL sender to see its
   * client confirm the end of the WAL, which a capture that cannot write its batch never does.
   */
  onServerGoingAway(listener: (err: Error) => void): void {
    this.goingAway.push(listener);
  }

  /** Passes a failure on to the listeners when it says the server is going away; returns it. */
  noticeFailure<E>(err: E): E {
    if (serverGoingAway(err)) for (const listener of this.goingAway) listener(err as Error);
    return err;
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<R[]> {
    const res = await this.pool
      .query({
        text: sql,
        values: params,
        types: { getTypeParser: bigintAsNumber },
      })
      .catch((err: unknown) => Promise.reject(this.noticeFailure(err)));
    return res.rows as R[];
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async transaction<T>(work: (tx: Tx) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const client = await this.pool.connect().catch((err: unknown) => Promise.reject(this.noticeFailure(err)));
    try {
      await client.query(begin);
      try {
        const result = await work(new Tx(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw this.noticeFailure(err);
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
