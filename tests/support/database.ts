import { Client } from 'pg';

/** A client on one database, connected at its first query, whose queries resolve with the rows. */
export interface Sql {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  end(): Promise<void>;
}

export function sqlClient(url: string): Sql {
  let client: Client | null = null;
  return {
    async query<T>(sql: string, params?: unknown[]) {
      if (!client) {
        client = new Client({ connectionString: url });
        await client.connect();
      }
      return (await client.query(sql, params)).rows as T[];
    },
    async end() {
      await client?.end();
      client = null;
    },
  };
}
