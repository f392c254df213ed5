import { randomUUID } from 'node:crypto';
import { connect, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type * as Minio from 'minio';
import { Pool, types } from 'pg';
import {
  DxWriter,
  uploadHeaderFor,
  type DxChange,
  type DxHeader,
  type DxRow,
  type DxUploadTransaction,
} from '@outpost/dx-format';
import { pgTypeParsers } from '@outpost/schema';
import { captureBarrier } from '@outpost/server-db';
import { startStack, waitFor, type ServiceProcess, type Stack } from '@outpost/test-support';
import { s3Client } from './s3';

export type ApplierProcess = ServiceProcess;

/**
 * An isolated place to run the applier: a stack of its own (database, migrated by the applier on
 * start, queue prefix and buckets) with no service running until a test starts the applier, and
 * the router beside it (its change capture writes the transaction log the tests look at), and
 * direct clients to put files in its inbox and look at the result.
 */
export class ApplierEnv {
  readonly s3: Minio.Client = s3Client();
  db!: Pool;
  private stack!: Stack;
  private amqp!: ChannelModel;
  private channel!: ConfirmChannel;

  async open(): Promise<void> {
    this.stack = await startStack({
      services: [],
      // No periodic sweep: each test says when a file is there.
      env: { APPLY_SWEEP_INTERVAL_MS: '600000' },
    });
    this.db = new Pool({
      connectionString: this.stack.databaseUrl,
      max: 4,
      types: pgTypeParsers(types),
      options: '-c TimeZone=UTC',
    });
    this.amqp = await connect(this.stack.env.AMQP_URL);
    this.channel = await this.amqp.createConfirmChannel();
    await this.channel.assertQueue(this.queue('dx.inbox'), { durable: true });
    await this.channel.assertQueue(this.queue('router.kick'), { durable: true });
  }

  get prefix(): string {
    return this.stack.queuePrefix;
  }

  get inboxBucket(): string {
    return `${this.stack.bucketPrefix}-inbox`;
  }

  queue(name: string): string {
    return `${this.prefix}.${name}`;
  }

  /**
   * Starts the applier with `env` for this run and waits until /healthz answers 200 (connected,
   * migrated, consuming); hands back the running one if it runs.
   */
  async startApplier(
    env: Record<string, string> = {},
    opts: { waitHealthy?: boolean } = {},
  ): Promise<ApplierProcess> {
    return this.stack.startService('applier', { env, waitHealthy: opts.waitHealthy });
  }

  /** Where the running applier serves its Prometheus metrics. */
  get applierMetricsUrl(): string {
    return this.stack.endpoints.applier.metrics;
  }

  /** Starts a router: its change capture turns the stream into the transaction log. */
  async startRouter(env: Record<string, string> = {}): Promise<ApplierProcess> {
    // A queue prefix of its own: the router takes no kicks meant for the tests to count.
    return this.stack.startService('router', {
      env: { ROUTER_POLL_MS: '100', QUEUE_PREFIX: `${this.prefix}-router`, ...env },
    });
  }

  /** Waits until everything committed so far is in the transaction log. */
  async waitCaptured(): Promise<void> {
    expect(await captureBarrier(this.db, { timeoutMs: 30_000 })).toBe(true);
  }

  async addClient(name: string, userLogin: string): Promise<void> {
    await this.db.query(
      `INSERT INTO sync_client (name, user_login, secret_hash) VALUES ($1, $2, 'not-used')`,
      [name, userLogin],
    );
  }

  /** Writes a DX file into the inbox bucket and records it as received, as inbox-store does. */
  async putFile(
    client: string,
    fileSeq: number,
    txs: DxUploadTransaction[],
    header: Partial<DxHeader> = {},
  ): Promise<string> {
    const fileHeader = uploadHeaderFor(client, fileSeq, txs, header);
    const writer = new DxWriter(fileHeader);
    const chunks: Buffer[] = [];
    writer.stream.on('data', (c: Buffer) => chunks.push(c));
    for (const tx of txs) await writer.write(tx);
    const { sha256, bytes } = await writer.end();
    const key = `inbox/${client}/${String(fileSeq).padStart(12, '0')}.dx`;
    await this.s3.putObject(this.inboxBucket, key, Buffer.concat(chunks));
    await this.db.query(
      `INSERT INTO sync_inbox_file (client, file_seq, object_key, sha256, size, txn_count, first_seq, last_seq)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [client, fileSeq, key, sha256, bytes, txs.length, fileHeader.firstSeq, fileHeader.lastSeq],
    );
    return key;
  }

  async publishReceived(client: string, fileSeq: number): Promise<void> {
    const body = Buffer.from(
      JSON.stringify({
        pattern: 'dx.file.received',
        data: { client, fileSeq, objectKey: '', sha256: '', size: 0 },
      }),
    );
    this.channel.sendToQueue(this.queue('dx.inbox'), body, {
      persistent: true,
      contentType: 'application/json',
    });
    await this.channel.waitForConfirms();
  }

  async kickCount(): Promise<number> {
    return (await this.channel.checkQueue(this.queue('router.kick'))).messageCount;
  }

  /** The client's apply position; a client nothing was applied for yet is at 0/0. */
  async position(client: string): Promise<{ fileSeq: number; txnSeq: number }> {
    const res = await this.db.query(`SELECT file_seq, txn_seq FROM sync_apply_position WHERE client = $1`, [
      client,
    ]);
    return res.rows[0]
      ? { fileSeq: Number(res.rows[0].file_seq), txnSeq: Number(res.rows[0].txn_seq) }
      : { fileSeq: 0, txnSeq: 0 };
  }

  /** Wake-ups waiting in dx.inbox that no applier has taken yet. */
  async readyMessages(): Promise<number> {
    return (await this.channel.checkQueue(this.queue('dx.inbox'))).messageCount;
  }

  async waitApplied(client: string, fileSeq: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await this.position(client)).fileSeq >= fileSeq, {
      timeoutMs,
      description: `${client} to be applied up to file ${fileSeq}`,
    });
  }

  async inboxFile(
    client: string,
    fileSeq: number,
  ): Promise<{ status: string; reason: string | null; object_key: string }> {
    const res = await this.db.query(
      `SELECT status, reason, object_key FROM sync_inbox_file WHERE client = $1 AND file_seq = $2`,
      [client, fileSeq],
    );
    return res.rows[0];
  }

  async close(): Promise<void> {
    if (!this.stack) return;
    await this.amqp?.close().catch(() => undefined);
    await this.db?.end();
    // Stops the services, deletes the stack's queues and drops its database.
    await this.stack.stop();
    for (const key of await listAll(this.s3, this.inboxBucket))
      await this.s3.removeObject(this.inboxBucket, key);
    await this.s3.removeBucket(this.inboxBucket).catch(() => undefined);
    await this.s3.removeBucket(`${this.stack.bucketPrefix}-outbox`).catch(() => undefined);
  }
}

async function listAll(s3: Minio.Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  try {
    for await (const item of s3.listObjectsV2(bucket, '', true))
      if ('name' in item && item.name) keys.push(item.name);
  } catch {
    return [];
  }
  return keys;
}

export const uuid = (): string => randomUUID();

/** The fields of an upload transaction a test sets; the DX writer checks each op has what it needs. */
export interface TxnFields {
  table: string;
  id: string;
  row?: DxRow;
  base?: number | null;
  changes?: Record<string, DxChange>;
  at?: string;
  user?: string;
}

/** An upload transaction with the fields tests do not care about filled in. */
export function txn(seq: number, op: DxUploadTransaction['op'], fields: TxnFields): DxUploadTransaction {
  return {
    seq,
    op,
    at: fields.at ?? new Date().toISOString(),
    user: fields.user ?? 'alice',
    ...fields,
  } as DxUploadTransaction;
}
