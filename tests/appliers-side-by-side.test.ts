import { createHash, randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import { Pool } from 'pg';
import { DxWriter, uploadHeaderFor, type DxTransaction } from '@outpost/dx-format';
import { captureBarrier } from '@outpost/server-db';
import { startStack, waitFor, type Stack } from '@outpost/test-support';

jest.setTimeout(300_000);

/**
 * Two applier processes and two gateway processes on one Postgres and one RabbitMQ, many laptops
 * uploading at once: files of different clients apply side by side (no lock shared between them),
 * and each client's files still apply exactly once and in order.
 */
describe('appliers side by side', () => {
  let stack: Stack;
  let db: Pool;
  let gateways: string[];

  beforeAll(async () => {
    stack = await startStack();
    db = new Pool({ connectionString: stack.databaseUrl, max: 4 });
    db.on('error', () => undefined);
    // A second applier and a second gateway on the same database, queues and buckets.
    await stack.startReplica('applier');
    const gateway = await stack.startReplica('sync-gateway');
    gateways = [stack.gatewayUrl, gateway.url];
  });
  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  it("applies many clients' files concurrently on two appliers, each client's exactly once and in order", async () => {
    const CLIENTS = 16;
    const FILES = 4;
    const clients = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => register(`side-${String(i).padStart(2, '0')}`, `user-${i}`)),
    );
    const accounts = new Map(clients.map((c) => [c.name, randomUUID()]));
    await Promise.all(
      clients.map(async (c, i) => {
        const id = accounts.get(c.name) as string;
        let seq = 0;
        for (let f = 1; f <= FILES; f += 1) {
          // Every file through the other gateway than the one before: the client's order must not depend on one.
          const gateway = gateways[(i + f) % 2];
          const txs: DxTransaction[] = [];
          if (f === 1) txs.push(insert(++seq, id, `${c.name} v1`, c.user));
          else txs.push(rename(++seq, id, `${c.name} v${f - 1}`, `${c.name} v${f}`, c.user));
          // A second transaction per file on a row of its own, so files carry more than one.
          txs.push(insert(++seq, randomUUID(), `${c.name} extra ${f}`, c.user));
          await upload(gateway, c, f, seq - txs.length + 1, txs);
        }
      }),
    );
    await waitFor(
      async () => {
        const r = await db.query(
          `SELECT count(*)::int AS n FROM sync_apply_position WHERE client LIKE 'side-%' AND file_seq = $1`,
          [FILES],
        );
        return r.rows[0].n === CLIENTS;
      },
      { timeoutMs: 180_000, description: 'every side-* client applied up to its last file' },
    );

    const positions = await db.query(
      `SELECT client, file_seq, txn_seq FROM sync_apply_position WHERE client LIKE 'side-%' ORDER BY client`,
    );
    expect(positions.rows.every((r) => r.file_seq === FILES && r.txn_seq === FILES * 2)).toBe(true);
    const files = await db.query(
      `SELECT status, count(*)::int AS n FROM sync_inbox_file WHERE client LIKE 'side-%' GROUP BY status`,
    );
    expect(files.rows).toEqual([{ status: 'applied', n: CLIENTS * FILES }]);
    // In order and once: each rename's old value matched (no conflict), and the version counts every rename once.
    const rows = await db.query(
      `SELECT id::text AS id, name, row_version::int AS v FROM account WHERE id = ANY($1::uuid[])`,
      [[...accounts.values()]],
    );
    expect(rows.rows).toHaveLength(CLIENTS);
    for (const r of rows.rows as Array<{ id: string; name: string; v: number }>) {
      expect(r.name).toMatch(new RegExp(` v${FILES}$`));
      expect(r.v).toBe(FILES);
    }
    const conflicts = await db.query(
      `SELECT count(*)::int AS n FROM sync_conflict WHERE client_origin LIKE 'side-%'`,
    );
    expect(conflicts.rows[0].n).toBe(0);

    // The log has each file's confirm once, in file order per client.
    expect(await captureBarrier(db, { timeoutMs: 60_000 })).toBe(true);
    const confirms = await db.query(
      `SELECT origin_client, array_agg(origin_txn_seq::int ORDER BY seq) AS upto FROM sync_txn_log
        WHERE op = 'confirm' AND origin_client LIKE 'side-%' GROUP BY origin_client`,
    );
    expect(confirms.rows).toHaveLength(CLIENTS);
    for (const r of confirms.rows as Array<{ upto: number[] }>) expect(r.upto).toEqual([2, 4, 6, 8]);

    // Two appliers took the wake-ups from the one queue.
    expect(await consumers(`${stack.queuePrefix}.dx.inbox`)).toBe(2);
  });

  it('keeps and marks two inserts of the same business key from two laptops at the same moment, never quarantines', async () => {
    const PAIRS = 8;
    const pairs = await Promise.all(
      Array.from({ length: PAIRS }, async (_, i) => [
        await register(`dup-a-${i}`, `dup-a-user-${i}`),
        await register(`dup-b-${i}`, `dup-b-user-${i}`),
      ]),
    );
    await Promise.all(
      pairs.flatMap(([a, b], i) => [
        upload(gateways[0], a, 1, 1, [insert(1, randomUUID(), `Shared name ${i}`, a.user)]),
        upload(gateways[1], b, 1, 1, [insert(1, randomUUID(), `Shared name ${i}`, b.user)]),
      ]),
    );
    await waitFor(
      async () => {
        const r = await db.query(
          `SELECT count(*)::int AS n FROM sync_inbox_file WHERE client LIKE 'dup-%' AND status <> 'received'`,
        );
        return r.rows[0].n === PAIRS * 2;
      },
      { timeoutMs: 120_000, description: 'every dup-* file applied or quarantined' },
    );
    const statuses = await db.query(`SELECT DISTINCT status FROM sync_inbox_file WHERE client LIKE 'dup-%'`);
    expect(statuses.rows).toEqual([{ status: 'applied' }]);
    for (let i = 0; i < PAIRS; i += 1) {
      const rows = await db.query(
        `SELECT id::text AS id, sync_conflict_of::text AS of FROM account WHERE name = $1 ORDER BY sync_conflict_of NULLS FIRST`,
        [`Shared name ${i}`],
      );
      expect(rows.rows).toHaveLength(2);
      const [holder, marked] = rows.rows as Array<{ id: string; of: string | null }>;
      expect(holder.of).toBeNull();
      expect(marked.of).toBe(holder.id);
      const conflict = await db.query(`SELECT kind, policy FROM sync_conflict WHERE row_id = $1`, [
        marked.id,
      ]);
      expect(conflict.rows).toEqual([{ kind: 'duplicate-key', policy: 'keep-both' }]);
    }
  });

  interface Laptop {
    name: string;
    user: string;
    token: string;
  }

  async function register(name: string, user: string): Promise<Laptop> {
    const added = await fetch(`${stack.adminUrl}/admin/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, userLogin: user }),
    });
    expect(added.status).toBe(201);
    const { secret } = (await added.json()) as { secret: string };
    const session = await fetch(`${stack.gatewayUrl}/v1/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client: name, secret, agentVersion: 'test', formatVersion: 1 }),
    });
    expect(session.status).toBe(201);
    return { name, user, token: ((await session.json()) as { token: string }).token };
  }
});

async function consumers(queue: string): Promise<number> {
  const connection = await connect(process.env.AMQP_URL as string);
  try {
    const channel = await connection.createChannel();
    return (await channel.checkQueue(queue)).consumerCount;
  } finally {
    await connection.close();
  }
}

function insert(seq: number, id: string, name: string, user: string): DxTransaction {
  return {
    seq,
    at: new Date().toISOString(),
    user,
    table: 'account',
    id,
    op: 'insert',
    row: { id, name, owner_login: user },
  };
}

function rename(seq: number, id: string, from: string, to: string, user: string): DxTransaction {
  return {
    seq,
    at: new Date().toISOString(),
    user,
    table: 'account',
    id,
    op: 'update',
    base: null,
    changes: { name: { old: from, new: to } },
  };
}

async function upload(
  gateway: string,
  laptop: { name: string; token: string },
  fileSeq: number,
  firstSeq: number,
  txs: DxTransaction[],
): Promise<void> {
  const writer = new DxWriter(uploadHeaderFor(laptop.name, fileSeq, { firstSeq, count: txs.length }));
  const chunks: Buffer[] = [];
  writer.stream.on('data', (c: Buffer) => chunks.push(c));
  for (const tx of txs) await writer.write(tx);
  await writer.end();
  const bytes = Buffer.concat(chunks);
  const res = await fetch(`${gateway}/v1/upload/${fileSeq}`, {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${laptop.token}`,
      'content-type': 'application/octet-stream',
      'x-dx-sha256': createHash('sha256').update(bytes).digest('hex'),
    },
    body: bytes,
  });
  expect(res.status).toBe(201);
}
