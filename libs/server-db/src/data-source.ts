import { DataSource, type EntitySchema } from 'typeorm';
import { migrations } from './migrations';
import { ResilientPgClient } from './pg-pool';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityTarget = Function | EntitySchema;

export interface DataSourceOptions {
  /** Connection pool size; keep it small, several services share one Postgres. */
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator can tell which service holds a connection. */
  applicationName?: string;
}

/** The one way to reach the server database: schema comes only from migrations, never synchronize. */
export function createDataSource(
  url: string,
  entities: EntityTarget[] = [],
  opts: DataSourceOptions = {},
): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities,
    migrations,
    migrationsTableName: 'sync_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    poolSize: opts.poolSize ?? 5,
    applicationName: opts.applicationName,
    // Every client of the pool, checked out or idle, survives a lost connection (see ResilientPgClient).
    extra: { Client: ResilientPgClient },
  });
}
