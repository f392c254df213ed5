import { type Pool, types } from 'pg';
import { createPgPool as createResilientPool } from '@outpost/server-db';
import { pgTypeParsers } from '@outpost/schema';

export const PG_POOL = Symbol('PG_POOL');

/**
 * The applier's hot path talks to Postgres through pg directly. Sessions run in UTC and read
 * numeric, bigint, date and timestamps as text, so no value passes through a float or a JS Date.
 */
export function createPgPool(url: string, size: number): Pool {
  return createResilientPool({
    connectionString: url,
    max: size,
    application_name: 'outpost-applier',
    options: '-c TimeZone=UTC',
    types: pgTypeParsers(types),
  });
}
