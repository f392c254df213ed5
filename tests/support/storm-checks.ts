import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import type { AgentStatus } from '@outpost/client-agent';
import { readDxFile, type DxTransaction, type DxValue } from '@outpost/dx-format';
import { dxKey, salesSchema } from '@outpost/schema';
import { captureBarrier } from '@outpost/server-db';
import { waitFor } from '@outpost/test-support';
import { serverRowsFor } from './oracle';
import { seededRandom, type StormLaptop } from './storm';
import { STAGES } from './storm-changes';

/**
 * The storm's server data and checks, shared by the convergence storm and the fault suite: the
 * seeded starting rows, what laptops sent, values nothing accounts for, and "nothing waits".
 */

/**
 * The server's starting data: every rep owns accounts, the manager owns the shared ones and is on
 * every opportunity's team; each opportunity's team also holds another rep, so reps' visibility
 * overlaps through shared accounts and teams.
 */
export async function seedServer(db: Pool, seed: number, manager: string, reps: string[]): Promise<void> {
  const rand = seededRandom(seed ^ 0x5eed);
  const accounts: string[] = [];
  const addAccount = async (name: string, owner: string) => {
    const r = await db.query(
      `INSERT INTO account (id, name, owner_login) VALUES (gen_random_uuid(), $1, $2) RETURNING id::text`,
      [name, owner],
    );
    accounts.push(r.rows[0].id);
  };
  for (let i = 0; i < Math.max(4, reps.length); i += 1) await addAccount(`Shared account ${i}`, manager);
  for (const rep of reps) for (let i = 0; i < 3; i += 1) await addAccount(`${rep} account ${i}`, rep);
  for (const account of accounts) {
    for (let i = 0; i < 2; i += 1) {
      await db.query(
        `INSERT INTO contact (id, account_id, first_name, last_name, email)
         VALUES (gen_random_uuid(), $1, $2, $3, NULL)`,
        [account, `First ${i}`, `Last ${account.slice(0, 8)} ${i}`],
      );
    }
  }
  for (const [r, rep] of reps.entries()) {
    for (let i = 0; i < 2; i += 1) {
      const account = accounts[Math.floor(rand() * accounts.length)];
      const opp = await db.query(
        `INSERT INTO opportunity (id, account_id, name, stage, amount, close_date, owner_login)
         VALUES (gen_random_uuid(), $1, $2, $3, 1000.00, '2027-06-30', $4) RETURNING id::text`,
        [account, `${rep} deal ${i}`, STAGES[i % STAGES.length], rep],
      );
      const colleague = reps[(r + 1 + i) % reps.length];
      for (const member of [manager, colleague]) {
        await db.query(
          `INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES (gen_random_uuid(), $1, $2)`,
          [opp.rows[0].id, member],
        );
      }
    }
  }
}

/** A transaction a laptop sent, with the upload file it went in. */
export interface SentTransaction {
  laptop: string;
  file: string;
  tx: DxTransaction;
}

/** Every transaction in the laptops' sent upload files, file by file in order. */
export async function sentTransactions(laptops: readonly StormLaptop[]): Promise<SentTransaction[]> {
  const out: SentTransaction[] = [];
  for (const laptop of laptops) {
    const sentDir = path.join(laptop.cfg.dir, 'outbox', 'sent');
    for (const file of readdirSync(sentDir)
      .filter((f) => f.endsWith('.dx'))
      .sort()) {
      for await (const tx of readDxFile(path.join(sentDir, file)))
        out.push({ laptop: laptop.name, file, tx });
    }
  }
  return out;
}

export async function hasRefusalTable(db: Pool): Promise<boolean> {
  return (await db.query(`SELECT to_regclass('sync_refusal') IS NOT NULL AS present`)).rows[0].present;
}

/**
 * Sent values the server does not hold and nothing accounts for. A value is accounted for when
 * the server holds it, a later sent change replaced it having seen it (its `old`), its row is in
 * the conflict or refusal record, or its row was deleted by a laptop.
 */
export async function untracedValues(db: Pool, sent: readonly DxTransaction[]): Promise<string[]> {
  const server = await serverRowsFor(db, salesSchema, null);
  const columnOf = (table: string, name: string) =>
    salesSchema.table(table)!.allColumns.find((c) => c.name === name)!;
  const key = (table: string, name: string, v: DxValue) => dxKey(columnOf(table, name), v);
  const rowKey = (table: string, id: string) => `${table}|${id.toLowerCase()}`;
  const replaced = new Set<string>();
  const deleted = new Set<string>();
  for (const tx of sent) {
    if (tx.op === 'update') {
      for (const [name, change] of Object.entries(tx.changes))
        replaced.add(`${rowKey(tx.table, tx.id)}|${name}|${key(tx.table, name, change.old)}`);
    }
    if (tx.op === 'delete') deleted.add(rowKey(tx.table, tx.id));
  }
  const onRecord = new Set<string>(
    (await db.query(`SELECT table_name, row_id::text AS row_id FROM sync_conflict`)).rows.map((r) =>
      rowKey(r.table_name, r.row_id),
    ),
  );
  if (await hasRefusalTable(db)) {
    for (const r of (await db.query(`SELECT table_name, row_id FROM sync_refusal`)).rows)
      onRecord.add(rowKey(r.table_name, r.row_id));
  }
  const untraced: string[] = [];
  const check = (table: string, id: string, name: string, v: DxValue) => {
    const row = rowKey(table, id);
    const k = key(table, name, v);
    const held = server.get(table)?.get(id.toLowerCase());
    if (held?.[name] === k) return;
    if (replaced.has(`${row}|${name}|${k}`) || onRecord.has(row)) return;
    if (!held && deleted.has(row)) return;
    untraced.push(`${table} ${id} ${name} = ${k} (server: ${held ? held[name] : 'no row'})`);
  };
  const business = (table: string) => new Set(salesSchema.table(table)!.columns.map((c) => c.name));
  for (const tx of sent) {
    if (tx.op === 'insert') {
      for (const [name, v] of Object.entries(tx.row))
        if (name !== 'id' && business(tx.table).has(name)) check(tx.table, tx.id, name, v);
    } else if (tx.op === 'update') {
      for (const [name, change] of Object.entries(tx.changes)) check(tx.table, tx.id, name, change.new);
    } else if (tx.op === 'delete') {
      const row = rowKey(tx.table, tx.id);
      if (server.get(tx.table)?.has(tx.id.toLowerCase()) && !onRecord.has(row))
        untraced.push(`${tx.table} ${tx.id} delete (the row is on the server)`);
    }
  }
  return untraced;
}

/**
 * The server has applied every received file and routed every log entry; a quarantined file
 * fails at once (`label` names the run in messages).
 */
export async function serverQuiet(db: Pool, timeoutMs: number, label: string): Promise<void> {
  await waitFor(
    async () => (await db.query(`SELECT 1 FROM sync_inbox_file WHERE status = 'received'`)).rowCount === 0,
    { timeoutMs, description: `every received file applied (${label})` },
  );
  if (!(await captureBarrier(db, { timeoutMs }))) throw new Error(`capture barrier not reached (${label})`);
  await waitFor(
    async () => {
      const r = await db.query(
        `SELECT (SELECT count(*) FROM sync_inbox_file WHERE status = 'received')::int AS pending,
                (SELECT count(*) FROM sync_inbox_file WHERE status = 'quarantined')::int AS quarantined,
                (SELECT coalesce(max(seq), 0) FROM sync_txn_log)::bigint AS head,
                (SELECT coalesce(max(last_seq), 0) FROM sync_router_watermark)::bigint AS routed`,
      );
      const s = r.rows[0];
      if (s.quarantined > 0) throw new Error(`a file was quarantined (${label})`);
      return s.pending === 0 && Number(s.routed) >= Number(s.head);
    },
    { timeoutMs, description: `server quiet (${label})` },
  );
}

/** What a laptop's status says it waits for: all empty when nothing is stuck. */
export function waitsOf(s: AgentStatus) {
  return {
    waitingFor: s.waitingFor,
    pendingTransactions: s.pendingTransactions,
    outboxFiles: s.outboxFiles,
    awaitingConfirmation: s.awaitingConfirmation,
  };
}

export const NOTHING_WAITS = {
  waitingFor: [],
  pendingTransactions: 0,
  outboxFiles: 0,
  awaitingConfirmation: 0,
};
