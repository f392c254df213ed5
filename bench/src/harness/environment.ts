import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { migrate } from '@outpost/server-db';
import { selectSchema } from '@outpost/schema';
import {
  createTestDatabase,
  getServices,
  isContainerRuntimeReachable,
  needsContainerRuntime,
  planServices,
  SERVER_SERVICES,
  startStack,
  uniquePrefix,
  type ServerService,
  type Stack,
  type TestDatabase,
  type TestServices,
} from '@outpost/test-support';
import { deployedNodeOptions } from './deployed-env';
import { startS3rverChild, type S3rverChild } from './s3rver-child';

/** The checkout the bench runs from (bench/dist/harness/ -> the repository root). */
const repoRoot = resolve(__dirname, '..', '..', '..');

export interface BenchStack {
  stack: Stack;
  /** Pool on the stack's database, for setup, polling and checks. */
  db: Pool;
}

/**
 * What scenarios run against: Postgres, RabbitMQ and S3 resolved once like the tests resolve them
 * (environment, else testcontainers, else s3rver), a fresh database and prefixes per stack, and
 * temp directories; everything is released by `close()`.
 */
export class BenchEnvironment {
  private services: TestServices | null = null;
  private s3rver: S3rverChild | null = null;
  private readonly cleanups: Array<() => Promise<void>> = [];

  constructor(
    private readonly opts: { keepLogs: boolean; cpuProfDir: string | null; log: (line: string) => void },
  ) {}

  /** Resolves the backing services and exports them, so every stack and database uses the same ones. */
  async backing(): Promise<TestServices> {
    if (!this.services) {
      // Where the tests would fall back to s3rver in their own process, the bench runs it in a child.
      const runtime = needsContainerRuntime(process.env) && (await isContainerRuntimeReachable());
      if (planServices(process.env, runtime).s3.source === 's3rver') {
        this.s3rver = await startS3rverChild();
        Object.assign(process.env, this.s3rver.env);
      }
      this.services = await getServices();
      Object.assign(process.env, this.services.env);
      const where = this.services.describe().replace(/^test services/, 'bench services');
      this.opts.log(this.s3rver ? where.replace('s3 from env', 's3 from s3rver in a child process') : where);
    }
    return this.services;
  }

  /** The five services as child processes, on a fresh database with their own prefixes. */
  async stack(label: string, env: Record<string, string> = {}): Promise<BenchStack> {
    await this.backing();
    const prefix = uniquePrefix(`bench-${label}`);
    const logDir = mkdtempSync(join(tmpdir(), `outpost-bench-${label}-`));
    const profiling = this.opts.cpuProfDir
      ? `--require ${join(__dirname, 'cpu-profile-preload.js')}`
      : undefined;
    // Each service runs with the NODE_OPTIONS it is deployed with (heap caps), the profiler added.
    const deployed = deployedNodeOptions(repoRoot);
    const serviceEnv: Partial<Record<ServerService, Record<string, string>>> = {};
    for (const service of SERVER_SERVICES) {
      const options = [deployed[service], profiling].filter((o) => o !== undefined).join(' ');
      if (options !== '') serviceEnv[service] = { NODE_OPTIONS: options };
    }
    const stack = await startStack({
      queuePrefix: prefix,
      bucketPrefix: prefix,
      env: this.opts.cpuProfDir ? { BENCH_CPU_PROF_DIR: resolve(this.opts.cpuProfDir, label), ...env } : env,
      serviceEnv,
      logDir,
      stopTimeoutMs: 20_000,
    });
    const db = new Pool({ connectionString: stack.databaseUrl, max: 4 });
    this.cleanups.push(async () => {
      await db.end();
      await stack.stop();
      if (this.opts.cpuProfDir)
        this.opts.log(`${label}: service CPU profiles in ${resolve(this.opts.cpuProfDir, label)} `);
      if (this.opts.keepLogs) this.opts.log(`${label}: service logs kept in ${logDir}`);
      else rmSync(logDir, { recursive: true, force: true });
    });
    return { stack, db };
  }

  /** A fresh database with every migration (synced tables and capture triggers), for baselines. */
  async migratedDatabase(label: string): Promise<{ url: string; db: Pool }> {
    const services = await this.backing();
    const database: TestDatabase = await createTestDatabase(`bench_${label}`, services.databaseUrl);
    this.cleanups.push(() => database.drop());
    await migrate(database.url, selectSchema('sales'));
    const db = new Pool({ connectionString: database.url, max: 4 });
    this.cleanups.push(() => db.end());
    return { url: database.url, db };
  }

  /** Processes the bench started besides the stacks (s3rver), for CPU accounting. */
  helperPids(): Record<string, number[]> {
    return this.s3rver ? { s3rver: [this.s3rver.pid] } : {};
  }

  tempDir(label: string): string {
    const dir = mkdtempSync(join(tmpdir(), `outpost-bench-${label}-`));
    this.cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  async postgresVersion(): Promise<string> {
    const services = await this.backing();
    const pool = new Pool({ connectionString: services.databaseUrl, max: 1 });
    try {
      const { rows } = await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      return `PostgreSQL ${rows[0].v}`;
    } finally {
      await pool.end();
    }
  }

  /** Releases what the scenarios so far created (latest first); the backing services stay. */
  async release(): Promise<void> {
    const errors: unknown[] = [];
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0)
      this.opts.log(`cleanup problems: ${errors.map((e) => (e as Error).message).join('; ')}`);
  }

  async close(): Promise<void> {
    await this.release();
    await this.services?.stop();
    this.services = null;
    await this.s3rver?.stop();
    this.s3rver = null;
  }
}
