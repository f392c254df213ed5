import { randomUUID } from 'node:crypto';
import * as Minio from 'minio';
import { Pool } from 'pg';
import { DxReader, type DxHeader, type DxTransaction } from '@outpost/dx-format';
import { CAPTURE_MESSAGE_PREFIX, type CaptureMessage } from '@outpost/schema';
import { captureBarrier } from '@outpost/server-db';
import { createTestDatabase, startStack, uniquePrefix, waitFor, type Stack } from '@outpost/test-support';
import { s3Client } from './s3';

export interface HandLogRow {
  table?: string;
  rowId?: string;
  op: 'update' | 'confirm';
  originClient: string;
  originTxnSeq?: number;
  echo?: boolean;
}

export interface OutboundFile {
  epoch: number;
  fileSeq: number;
  kind: 'changes' | 'extract';
  header: DxHeader;
  txs: DxTransaction[];
  obsolete: boolean;
}

/** The router alone against its own database and buckets, with direct SQL and S3 access for assertions. */
export interface RouterEnv {
  stack: Stack;
  db: Pool;
  s3: Minio.Client;
  outboxBucket: string;
  addClient(name: string, userLogin: string): Promise<void>;
  /** Waits until the client has been extracted (it has route state of at least `epoch`). */
  waitExtracted(name: string, epoch?: number): Promise<void>;
  /** Waits until the router has routed the client past every log entry written so far. */
  waitRouted(name: string): Promise<void>;
  files(name: string): Promise<OutboundFile[]>;
  /** Writes confirm and echo messages in one transaction, the way the applier does; the capture logs them. */
  logRows(...rows: HandLogRow[]): Promise<void>;
  close(): Promise<void>;
}

export async function startRouterEnv(env: Record<string, string> = {}): Promise<RouterEnv> {
  const prefix = uniquePrefix('router');
  const database = await createTestDatabase('router');
  const stack = await startStack({
    databaseUrl: database.url,
    queuePrefix: prefix,
    bucketPrefix: prefix,
    services: ['router'],
    env: { ROUTER_POLL_MS: '100', ROUTER_RETRY_MAX_MS: '300', ...env },
  });
  const db = new Pool({ connectionString: database.url, max: 6 });
  // Dropping the database at the end terminates connections the pool may still be closing.
  db.on('error', () => undefined);
  const s3 = s3Client();
  const outboxBucket = `${prefix}-outbox`;

  const maxSeq = async () =>
    Number((await db.query('SELECT coalesce(max(seq), 0) AS s FROM sync_txn_log')).rows[0].s);
  const routeState = async (name: string) =>
    (
      await db.query('SELECT epoch, from_seq::float8 AS from_seq FROM sync_route_state WHERE client = $1', [
        name,
      ])
    ).rows[0] as { epoch: number; from_seq: number } | undefined;

  return {
    stack,
    db,
    s3,
    outboxBucket,
    addClient: async (name, userLogin) => {
      await db.query(
        `INSERT INTO sync_client (name, user_login, status, secret_hash, created_at) VALUES ($1, $2, 'active', 'x', now())`,
        [name, userLogin],
      );
    },
    waitExtracted: async (name, epoch = 1) => {
      await waitFor(async () => ((await routeState(name))?.epoch ?? 0) >= epoch, {
        timeoutMs: 30_000,
        description: `extract epoch ${epoch} of ${name}`,
      });
    },
    waitRouted: async (name) => {
      expect(await captureBarrier(db, { timeoutMs: 30_000 })).toBe(true);
      const target = await maxSeq();
      await waitFor(async () => ((await routeState(name))?.from_seq ?? -1) >= target, {
        timeoutMs: 60_000,
        description: `${name} routed up to log seq ${target}`,
      });
    },
    files: async (name) => {
      const rows = (
        await db.query(
          `SELECT epoch, file_seq, kind, object_key, obsolete_at IS NOT NULL AS obsolete FROM sync_outbound_file
            WHERE client = $1 ORDER BY epoch, file_seq`,
          [name],
        )
      ).rows as Array<{
        epoch: number;
        file_seq: number;
        kind: 'changes' | 'extract';
        object_key: string;
        obsolete: boolean;
      }>;
      const out: OutboundFile[] = [];
      for (const r of rows) {
        const reader = DxReader.open(await s3.getObject(outboxBucket, r.object_key));
        const header = await reader.header();
        const txs: DxTransaction[] = [];
        for await (const tx of reader) txs.push(tx);
        out.push({ epoch: r.epoch, fileSeq: r.file_seq, kind: r.kind, header, txs, obsolete: r.obsolete });
      }
      return out;
    },
    logRows: async (...rows) => {
      const client = await db.connect();
      try {
        await client.query('BEGIN');
        for (const row of rows) {
          const message: CaptureMessage =
            row.op === 'confirm'
              ? { kind: 'confirm', client: row.originClient, upTo: row.originTxnSeq ?? 0 }
              : {
                  kind: 'echo',
                  client: row.originClient,
                  upTo: row.originTxnSeq ?? 0,
                  rows: [{ table: row.table ?? '', id: row.rowId ?? '', op: row.op, user: '' }],
                };
          await client.query('SELECT pg_logical_emit_message(true, $1, $2::text)', [
            CAPTURE_MESSAGE_PREFIX,
            JSON.stringify(message),
          ]);
        }
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    },
    close: async () => {
      await stack.stop();
      await db.end();
      await database.drop();
    },
  };
}

/** Direct SQL writes to the synced tables: the capture logs them with no origin. */
export class SalesWriter {
  constructor(private readonly db: Pool | { query: Pool['query'] }) {}

  async account(owner: string | null, id = randomUUID()): Promise<string> {
    await this.db.query('INSERT INTO account (id, name, owner_login) VALUES ($1, $2, $3)', [
      id,
      `acct-${id}`,
      owner,
    ]);
    return id;
  }

  async contact(accountId: string, id = randomUUID()): Promise<string> {
    await this.db.query(
      `INSERT INTO contact (id, account_id, first_name, last_name, email) VALUES ($1, $2, 'Ada', $3, NULL)`,
      [id, accountId, `L-${id.slice(0, 8)}`],
    );
    return id;
  }

  async opportunity(accountId: string, owner: string, id = randomUUID()): Promise<string> {
    await this.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, amount, close_date, owner_login)
       VALUES ($1, $2, $3, 'prospect', 1250000.50, '2026-03-31', $4)`,
      [id, accountId, `opp-${id.slice(0, 8)}`, owner],
    );
    return id;
  }

  async team(opportunityId: string, userLogin: string, id = randomUUID()): Promise<string> {
    await this.db.query('INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES ($1, $2, $3)', [
      id,
      opportunityId,
      userLogin,
    ]);
    return id;
  }
}

/** A laptop's synced tables reduced to what matters for convergence: table/id -> row version. */
export class ReplicaSimulator {
  readonly rows = new Map<string, number>();
  /**
   * Changes-file upserts that carried no newer version than the extract had for the row: a change
   * already in the snapshot delivered again. (Routing sends the current row, so two later batches
   * may legitimately carry the same newer version; only the snapshot boundary is checked here.)
   */
  readonly doubled: string[] = [];
  private readonly extracted = new Map<string, number>();

  apply(file: OutboundFile): void {
    if (file.kind === 'extract') {
      this.rows.clear();
      this.extracted.clear();
    }
    for (const tx of file.txs) {
      const key = `${tx.table}/${tx.id}`;
      switch (tx.op) {
        case 'upsert': {
          if (file.kind === 'extract') this.extracted.set(key, tx.version);
          const snapshot = this.extracted.get(key);
          if (file.kind === 'changes' && snapshot !== undefined) {
            if (tx.version <= snapshot) this.doubled.push(`${key}@${tx.version}`);
            this.extracted.delete(key);
          }
          this.rows.set(key, tx.version);
          break;
        }
        case 'delete':
        case 'evict':
          this.rows.delete(key);
          this.extracted.delete(key);
          break;
        case 'confirm':
        case 'insert':
        case 'update':
          break;
      }
    }
  }
}

/** What a user sees, by hand-written SQL independent of the generated visibility SQL: table/id -> row version. */
export async function visibleRows(db: Pool, login: string): Promise<Map<string, number>> {
  const sql = `
    WITH opp AS (
      SELECT id FROM opportunity WHERE owner_login = $1
      UNION SELECT opportunity_id FROM opportunity_team WHERE user_login = $1 AND opportunity_id IN (SELECT id FROM opportunity)
    ), acc AS (
      SELECT id FROM account WHERE owner_login = $1
      UNION SELECT account_id FROM opportunity WHERE id IN (SELECT id FROM opp) AND account_id IN (SELECT id FROM account)
    )
    SELECT 'account' AS t, id::text, row_version FROM account WHERE id IN (SELECT id FROM acc)
    UNION ALL SELECT 'contact', id::text, row_version FROM contact WHERE account_id IN (SELECT id FROM acc)
    UNION ALL SELECT 'opportunity', id::text, row_version FROM opportunity WHERE id IN (SELECT id FROM opp)
    UNION ALL SELECT 'opportunity_team', id::text, row_version FROM opportunity_team WHERE opportunity_id IN (SELECT id FROM opp)`;
  const rows = (await db.query(sql, [login])).rows as Array<{ t: string; id: string; row_version: string }>;
  return new Map(rows.map((r) => [`${r.t}/${r.id}`, Number(r.row_version)]));
}
