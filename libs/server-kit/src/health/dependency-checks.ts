import { connect, type ChannelModel } from 'amqplib';
import type { Observable, Subscription } from 'rxjs';

/** One dependency a service needs to do its work; `check` rejects while it is unusable. */
export interface DependencyCheck {
  name: 'postgres' | 'rabbitmq' | 's3' | (string & {});
  check(): Promise<void>;
}

/** A check that does not answer within this time counts as down (a stalled connection hangs). */
export const CHECK_TIMEOUT_MS = 2_000;

export function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Postgres answers `SELECT 1` through the service's own pool (so a broken pool shows). */
export function postgresCheck(query: (sql: string) => Promise<unknown>): DependencyCheck {
  return { name: 'postgres', check: async () => void (await query('SELECT 1')) };
}

/** The object store answers for a bucket the service uses. */
export function s3Check(bucketExists: () => Promise<boolean>): DependencyCheck {
  return {
    name: 's3',
    check: async () => {
      if (!(await bucketExists())) throw new Error('bucket missing');
    },
  };
}

/**
 * The state of one of the service's own RabbitMQ connections (a Nest RMQ consumer or client): down
 * from the moment it reports `disconnected` until it reports `connected` again, so readiness
 * does not come back before the service can consume and call again.
 */
export class RmqStatusCheck implements DependencyCheck {
  readonly name: string;
  private last = 'connected';
  private readonly subscription: Subscription;

  constructor(what: string, status: Observable<string>) {
    this.name = `rabbitmq ${what}`;
    this.subscription = status.subscribe((s) => {
      if (s === 'connected' || s === 'disconnected') this.last = s;
    });
  }

  check(): Promise<void> {
    if (this.last === 'connected') return Promise.resolve();
    return Promise.reject(new Error('the connection is lost; it reconnects by itself'));
  }

  close(): void {
    this.subscription.unsubscribe();
  }
}

/**
 * RabbitMQ reachability, from a connection of its own: the consumers' and publishers'
 * connections reconnect by themselves and expose no state, so readiness keeps a small
 * connection that it reopens on the next check after the broker dropped it.
 */
export class AmqpProbe implements DependencyCheck {
  readonly name = 'rabbitmq';
  private conn: ChannelModel | null = null;
  private opening: Promise<ChannelModel> | null = null;
  private closed = false;

  constructor(private readonly amqpUrl: string) {}

  async check(): Promise<void> {
    if (this.conn) return;
    this.opening ??= this.open();
    try {
      await this.opening;
    } finally {
      this.opening = null;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.conn;
    this.conn = null;
    await conn?.close().catch(() => undefined);
  }

  private async open(): Promise<ChannelModel> {
    // A short heartbeat notices a stalled broker connection, not only a dropped one.
    const conn = await connect(this.amqpUrl, { heartbeat: 5 });
    conn.on('error', () => undefined);
    conn.on('close', () => {
      if (this.conn === conn) this.conn = null;
    });
    if (this.closed) {
      await conn.close().catch(() => undefined);
      throw new Error('probe closed');
    }
    this.conn = conn;
    return conn;
  }
}
