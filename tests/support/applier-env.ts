import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
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
import {
  createTestDatabase,
  freePorts,
  uniquePrefix,
  waitFor,
  type TestDatabase,
} from '@outpost/test-support';
import { s3Client } from './s3';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const APPLIER_MAIN = path.join(REPO_ROOT, 'services', 'applier', 'dist', 'main.js');
const ROUTER_MAIN = path.join(REPO_ROOT, 'services', 'router', 'dist', 'main.js');

export interface ApplierProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | NodeJS.Signals | null>;
  stop(): Promise<void>;
}

/**
 * An isolated place to run the applier: its own database (migrated by the applier on start),
 * queue prefix and buckets, the applier as a child process (built code), the router beside it
 * (its change capture writes the transaction log the tests look at), and direct clients to put
 * files in its inbox and look at the result.
 */
export class ApplierEnv {
  readonly prefix = uniquePrefix('applier');
  readonly inboxBucket = `${this.prefix}-inbox`;
  readonly s3: Minio.Client = s3Client();
  db!: Pool;
  private database!: TestDatabase;
  private amqp!: ChannelModel;
  private channel!: ConfirmChannel;
  private readonly running = new Set<ApplierProcess>();

  async open(): Promise<void> {
    this.database = await createTestDatabase('applier');
    this.db = new Pool({
      connectionString: this.database.url,
      max: 4,
      types: pgTypeParsers(types),
      options: '-c TimeZone=UTC',
    });
    this.amqp = await connect(process.env.AMQP_URL as string);
    this.channel = await this.amqp.createConfirmChannel();
    await this.channel.assertQueue(this.queue('dx.inbox'), { durable: true });
    await this.channel.assertQueue(this.queue('router.kick'), { durable: true });
  }

  queue(name: string): string {
    return `${this.prefix}.${name}`;
  }

  /** Starts an applier and waits until /healthz answers 200 (connected, migrated, consuming). */
  async startApplier(
    env: Record<string, string> = {},
    opts: { waitHealthy?: boolean } = {},
  ): Promise<ApplierProcess> {
    return this.startService(APPLIER_MAIN, env, opts);
  }

  /** Starts a router: its change capture turns the stream into the transaction log. */
  async startRouter(env: Record<string, string> = {}): Promise<ApplierProcess> {
    // A queue prefix of its own: the router takes no kicks meant for the tests to count.
    return this.startService(
      ROUTER_MAIN,
      { ROUTER_POLL_MS: '100', QUEUE_PREFIX: `${this.prefix}-router`, ...env },
      {},
    );
  }

  /** Waits until everything committed so far is in the transaction log. */
  async waitCaptured(): Promise<void> {
    expect(await captureBarrier(this.db, { timeoutMs: 30_000 })).toBe(true);
  }

  private async startService(
    main: string,
    env: Record<string, string>,
    opts: { waitHealthy?: boolean },
  ): Promise<ApplierProcess> {
    const [healthPort] = await freePorts(1);
    const child = spawn(process.execPath, [main], {
      env: {
        ...process.env,
        DATABASE_URL: this.database.url,
        QUEUE_PREFIX: this.prefix,
        S3_BUCKET_PREFIX: this.prefix,
        HEALTH_PORT: String(healthPort),
        APPLY_SWEEP_INTERVAL_MS: '600000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    const proc: ApplierProcess = {
      child,
      output: () => out,
      exited,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
        this.running.delete(proc);
      },
    };
    this.running.add(proc);
    if (opts.waitHealthy === false) return proc;
    let gone = false;
    void exited.then(() => (gone = true));
    await waitFor(
      async () => {
        if (gone)
          throw new Error(`${path.basename(path.dirname(path.dirname(main)))} exited during start:\n${out}`);
        const res = await fetch(`http://127.0.0.1:${healthPort}/healthz`).catch(() => null);
        return res?.status === 200;
      },
      { timeoutMs: 60_000, description: `${main} to answer /healthz with 200` },
    );
    return proc;
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
    await Promise.all([...this.running].map((p) => p.stop()));
    await this.channel?.deleteQueue(this.queue('dx.inbox')).catch(() => undefined);
    await this.channel?.deleteQueue(this.queue('router.kick')).catch(() => undefined);
    await this.amqp?.close().catch(() => undefined);
    await this.db?.end();
    await this.database?.drop();
    for (const key of await listAll(this.s3, this.inboxBucket))
      await this.s3.removeObject(this.inboxBucket, key);
    await this.s3.removeBucket(this.inboxBucket).catch(() => undefined);
    await this.s3.removeBucket(`${this.prefix}-outbox`).catch(() => undefined);
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
