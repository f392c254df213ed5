import { randomUUID } from 'node:crypto';
import type { DxTransaction } from '@outpost/dx-format';
import { waitFor } from '@outpost/test-support';
import {
  ReplicaSimulator,
  SalesWriter,
  startRouterEnv,
  visibleRows,
  type OutboundFile,
  type RouterEnv,
} from '../support/router-env';

let env: RouterEnv;
let sales: SalesWriter;

beforeAll(async () => {
  env = await startRouterEnv();
  sales = new SalesWriter(env.db);
}, 120_000);

afterAll(async () => {
  await env?.close();
});

/** Unique client names and logins per test, so tests share one router without seeing each other's rows. */
function names(label: string): { client: string; login: string } {
  const tag = randomUUID().slice(0, 8);
  return { client: `${label}-${tag}`, login: `${label}-user-${tag}` };
}

const changes = (files: OutboundFile[]): DxTransaction[] =>
  files.filter((f) => f.kind === 'changes').flatMap((f) => f.txs);
const brief = (txs: DxTransaction[]): string[] =>
  txs.map((t) => (t.op === 'confirm' ? `confirm:${t.upTo}` : `${t.op}:${t.table}:${t.id}`));

async function clients(...labels: string[]): Promise<Array<{ client: string; login: string }>> {
  const out = labels.map(names);
  for (const c of out) await env.addClient(c.client, c.login);
  for (const c of out) await env.waitExtracted(c.client);
  return out;
}

describe('router', () => {
  it('routes a directly written opportunity, its account and contact to the owner only', async () => {
    const [b, c] = await clients('b', 'c');
    const account = await sales.account(null);
    const contact = await sales.contact(account);
    const opp = await sales.opportunity(account, b.login);
    await env.waitRouted(b.client);
    await env.waitRouted(c.client);

    const bFiles = await env.files(b.client);
    expect(bFiles[0]).toMatchObject({ kind: 'extract', fileSeq: 1, epoch: 1 });
    expect(bFiles[0].header).toMatchObject({
      direction: 'download',
      kind: 'extract',
      epoch: 1,
      client: b.client,
    });
    const got = changes(bFiles);
    expect(new Set(brief(got))).toEqual(
      new Set([`upsert:account:${account}`, `upsert:contact:${contact}`, `upsert:opportunity:${opp}`]),
    );
    expect(brief(got).indexOf(`upsert:account:${account}`)).toBeLessThan(
      brief(got).indexOf(`upsert:contact:${contact}`),
    );
    const oppTx = got.find((t) => t.id === opp);
    expect(oppTx).toMatchObject({
      op: 'upsert',
      version: 1,
      row: {
        id: opp,
        amount: { $dec: '1250000.50' },
        close_date: { $date: '2026-03-31' },
        owner_login: b.login,
      },
    });

    expect(changes(await env.files(c.client))).toEqual([]);
  });

  it('sends the opportunity, its account and contacts to a team member, and evicts them when removed', async () => {
    const [b, c] = await clients('b', 'c');
    const account = await sales.account(null);
    const contacts = [await sales.contact(account), await sales.contact(account)];
    const opp = await sales.opportunity(account, b.login);
    await env.waitRouted(c.client);
    expect(changes(await env.files(c.client))).toEqual([]);

    const team = await sales.team(opp, c.login);
    await env.waitRouted(c.client);
    const added = changes(await env.files(c.client));
    expect(new Set(brief(added))).toEqual(
      new Set([
        `upsert:account:${account}`,
        `upsert:contact:${contacts[0]}`,
        `upsert:contact:${contacts[1]}`,
        `upsert:opportunity:${opp}`,
        `upsert:opportunity_team:${team}`,
      ]),
    );
    const accountTx = added.find((t) => t.id === account);
    expect(accountTx).toMatchObject({
      op: 'upsert',
      row: { id: account, name: `acct-${account}`, owner_login: null, row_version: 1 },
    });
    const seqs = added.map((t) => t.seq);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);

    await env.db.query('DELETE FROM opportunity_team WHERE id = $1', [team]);
    await env.waitRouted(c.client);
    const after = changes(await env.files(c.client)).slice(added.length);
    expect(new Set(brief(after))).toEqual(
      new Set([
        `evict:account:${account}`,
        `evict:contact:${contacts[0]}`,
        `evict:contact:${contacts[1]}`,
        `evict:opportunity:${opp}`,
        `delete:opportunity_team:${team}`,
      ]),
    );
    const order = brief(after);
    expect(order.indexOf(`evict:contact:${contacts[0]}`)).toBeLessThan(
      order.indexOf(`evict:account:${account}`),
    );
    const holdings = await env.db.query(
      'SELECT count(*)::int AS n FROM sync_route_holding WHERE client = $1',
      [c.client],
    );
    expect(holdings.rows[0].n).toBe(0);
  });

  it('sends a delete to the holders of a deleted row', async () => {
    const [b] = await clients('b');
    const account = await sales.account(b.login);
    const contact = await sales.contact(account);
    await env.waitRouted(b.client);
    await env.db.query('DELETE FROM contact WHERE id = $1', [contact]);
    await env.waitRouted(b.client);
    const got = brief(changes(await env.files(b.client)));
    expect(got).toEqual([
      `upsert:account:${account}`,
      `upsert:contact:${contact}`,
      `delete:contact:${contact}`,
    ]);
  });

  it('does not send a client its own change back, but confirms first and sends echo rows', async () => {
    const [b, c] = await clients('b', 'c');
    const account = await sales.account(b.login);
    const opp = await sales.opportunity(account, b.login);
    await sales.team(opp, c.login);
    await env.waitRouted(b.client);
    await env.waitRouted(c.client);
    const before = {
      b: changes(await env.files(b.client)).length,
      c: changes(await env.files(c.client)).length,
    };

    // As the applier applies B's file: the change carries B as origin, then the confirm marker.
    const tx = await env.db.connect();
    try {
      await tx.query('BEGIN');
      await tx.query(`SELECT pg_logical_emit_message(true, 'outpost', $1::text)`, [
        JSON.stringify({ kind: 'origin', client: b.client, user: b.login }),
      ]);
      await tx.query(`UPDATE opportunity SET stage = 'won' WHERE id = $1`, [opp]);
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }
    await env.logRows({ op: 'confirm', originClient: b.client, originTxnSeq: 7 });
    await env.waitRouted(b.client);
    await env.waitRouted(c.client);

    const bNew = changes(await env.files(b.client)).slice(before.b);
    expect(brief(bNew)).toEqual(['confirm:7']);
    const cNew = changes(await env.files(c.client)).slice(before.c);
    expect(brief(cNew)).toEqual([`upsert:opportunity:${opp}`]);
    expect(cNew[0]).toMatchObject({ user: b.login, version: 2, row: { stage: 'won' } });

    // The applier resolved a conflict against B: after the confirm, the echo row sends B the server's row.
    await env.logRows(
      { op: 'confirm', originClient: b.client, originTxnSeq: 8 },
      { op: 'update', table: 'opportunity', rowId: opp, originClient: b.client, echo: true },
    );
    await env.waitRouted(b.client);
    const echoed = changes(await env.files(b.client)).slice(before.b + 1);
    expect(brief(echoed)).toEqual(['confirm:8', `upsert:opportunity:${opp}`]);
  });

  it('extracts while writes keep arriving, and extract plus changes reconstruct exactly the visible rows', async () => {
    const d = names('d');
    const other = 'someone-else';
    const accounts: string[] = [];
    const opps: string[] = [];
    for (let i = 0; i < 60; i++) {
      const account = await sales.account(i % 3 === 0 ? d.login : null);
      accounts.push(account);
      await sales.contact(account);
      opps.push(await sales.opportunity(account, i % 2 === 0 ? d.login : other));
    }

    let writing = true;
    const writer = (async () => {
      let i = 0;
      while (writing || i < 200) {
        const n = i++;
        const account = accounts[n % accounts.length];
        switch (n % 5) {
          case 0:
            await sales.contact(account);
            break;
          case 1:
            await env.db.query(`UPDATE opportunity SET stage = $2 WHERE id = $1`, [
              opps[n % opps.length],
              `s${n}`,
            ]);
            break;
          case 2:
            await sales.team(opps[(n * 7) % opps.length], n % 4 === 2 ? d.login : other);
            break;
          case 3:
            await env.db.query(`UPDATE opportunity SET owner_login = $2 WHERE id = $1`, [
              opps[(n * 3) % opps.length],
              n % 2 ? d.login : other,
            ]);
            break;
          default:
            await env.db.query(
              `DELETE FROM contact WHERE id = (SELECT id FROM contact WHERE account_id = $1 ORDER BY id LIMIT 1)`,
              [account],
            );
        }
      }
    })();
    await env.addClient(d.client, d.login);
    await env.waitExtracted(d.client);
    writing = false;
    await writer;
    await env.waitRouted(d.client);

    const replica = new ReplicaSimulator();
    const files = await env.files(d.client);
    expect(files[0].kind).toBe('extract');
    expect(files[0].txs[0]).toMatchObject({ op: 'confirm', upTo: 0 });
    for (const file of files) replica.apply(file);
    expect(replica.doubled).toEqual([]);
    const expected = await visibleRows(env.db, d.login);
    expect(expected.size).toBeGreaterThan(50);
    expect(new Map([...replica.rows].sort())).toEqual(new Map([...expected].sort()));
  });

  it('re-extracts on request with a new epoch and marks unacked files of the old epoch obsolete', async () => {
    const [b] = await clients('b');
    const account = await sales.account(b.login);
    await env.waitRouted(b.client);
    await env.db.query('UPDATE sync_client SET extract_requested_at = now() WHERE name = $1', [b.client]);
    await env.waitExtracted(b.client, 2);

    const files = await env.files(b.client);
    const latest = files.filter((f) => f.epoch === 2);
    expect(latest.map((f) => [f.fileSeq, f.kind])).toEqual([[1, 'extract']]);
    expect(latest[0].header.epoch).toBe(2);
    expect(brief(latest[0].txs)).toEqual(['confirm:0', `upsert:account:${account}`]);
    expect(files.filter((f) => f.epoch === 1).every((f) => f.obsolete)).toBe(true);
    const state = await env.db.query('SELECT next_file_seq FROM sync_route_state WHERE client = $1', [
      b.client,
    ]);
    expect(state.rows[0].next_file_seq).toBe(2);
  });

  it('keeps routing other clients while one client fails, and catches that client up afterwards', async () => {
    const [f, g] = await clients('f', 'g');
    await env.db.query(`
      CREATE FUNCTION refuse_outbound() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'outbox unavailable for %', NEW.client; END $$`);
    await env.db.query(
      `CREATE TRIGGER refuse_outbound BEFORE INSERT ON sync_outbound_file FOR EACH ROW
       WHEN (NEW.client = '${f.client}') EXECUTE FUNCTION refuse_outbound()`,
    );
    try {
      const account = await sales.account(null);
      const opp = await sales.opportunity(account, f.login);
      await sales.team(opp, g.login);
      await env.waitRouted(g.client);
      expect(changes(await env.files(g.client)).length).toBe(3);

      const state = await waitFor(
        async () =>
          (
            await env.db.query(
              'SELECT failures, last_error FROM sync_route_state WHERE client = $1 AND failures > 0',
              [f.client],
            )
          ).rows[0] as { failures: number; last_error: string } | undefined,
        { description: `a recorded failure for ${f.client}` },
      );
      expect(state.last_error).toContain('outbox unavailable');
      expect(changes(await env.files(f.client))).toEqual([]);

      // Others keep advancing while f is failing.
      const later = await sales.account(g.login);
      await env.waitRouted(g.client);
      expect(brief(changes(await env.files(g.client)))).toContain(`upsert:account:${later}`);
    } finally {
      await env.db.query('DROP TRIGGER refuse_outbound ON sync_outbound_file');
      await env.db.query('DROP FUNCTION refuse_outbound()');
    }
    await env.waitRouted(f.client);
    expect(
      changes(await env.files(f.client))
        .filter((t) => t.op === 'upsert')
        .map((t) => t.table)
        .sort(),
    ).toEqual(['account', 'opportunity', 'opportunity_team']);
  });
});

describe('router with one log entry per batch', () => {
  let small: RouterEnv;

  beforeAll(async () => {
    small = await startRouterEnv({ ROUTER_BATCH_SIZE: '1' });
  }, 120_000);

  afterAll(async () => {
    await small?.close();
  });

  it('sends a parent before its child even when their log entries fall in different batches', async () => {
    const b = names('b');
    await small.addClient(b.client, b.login);
    await small.waitExtracted(b.client);
    const writer = new SalesWriter(small.db);
    const account = await writer.account(null);
    await small.waitRouted(b.client);

    // One transaction: the contact's entry is routed alone, on a state where the opportunity already makes the account visible.
    const tx = await small.db.connect();
    let contact: string;
    try {
      await tx.query('BEGIN');
      const inTx = new SalesWriter(tx);
      contact = await inTx.contact(account);
      await inTx.opportunity(account, b.login);
      await tx.query('COMMIT');
    } finally {
      tx.release();
    }
    await small.waitRouted(b.client);
    const order = brief(changes(await small.files(b.client)));
    expect(order.indexOf(`upsert:account:${account}`)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(`upsert:account:${account}`)).toBeLessThan(
      order.indexOf(`upsert:contact:${contact}`),
    );
  });

  it('keeps routing for other clients while a large extract runs', async () => {
    const big = names('big');
    const [other] = await clients('other');
    await env.db.query(
      `INSERT INTO account (id, name, owner_login)
       SELECT gen_random_uuid(), $1 || g, $2 FROM generate_series(1, 150000) AS g`,
      [`Bulk ${big.login} `, big.login],
    );
    await env.waitRouted(other.client);

    await env.addClient(big.client, big.login);
    await waitFor(
      async () =>
        (await env.db.query(`SELECT 1 FROM sync_route_state WHERE client = $1`, [big.client])).rowCount === 0,
      { timeoutMs: 5_000, description: 'the large extract still running' },
    );
    const account = await sales.account(null);
    const opp = await sales.opportunity(account, other.login);
    await env.waitRouted(other.client);
    // The other client's change was routed while the extract's transaction had not committed yet
    // (its files' created_at is its transaction's start, so only the route state tells).
    const extracted = await env.db.query(`SELECT 1 FROM sync_route_state WHERE client = $1`, [big.client]);
    expect(extracted.rowCount).toBe(0);
    await env.waitExtracted(big.client);
    expect(brief(changes(await env.files(other.client)))).toContain(`upsert:opportunity:${opp}`);
  }, 180_000);
});
