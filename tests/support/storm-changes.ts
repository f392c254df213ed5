import type { LocalStore } from '@outpost/client-agent';

/**
 * One random change a sales rep's application makes on the laptop, chosen from the rows the laptop
 * holds right now: inserts, updates and deletes on every table, renames onto a name another account
 * holds (a duplicate business key), hand-offs of accounts, opportunities and activities, team
 * changes that move rows in and out of someone's visibility, and parents deleted with or without
 * their children. Every change is honest: a laptop only touches rows it holds, and inserts rows
 * owned by its own user; the server may still refuse one whose row was handed away meanwhile.
 */

export const CHANGE_KINDS = [
  'account.insert',
  'account.rename',
  'account.rename-taken',
  'account.hand-off',
  'account.delete',
  'contact.insert',
  'contact.update',
  'contact.delete',
  'opportunity.insert',
  'opportunity.update',
  'opportunity.hand-off',
  'opportunity.delete',
  'opportunity_team.insert',
  'opportunity_team.update',
  'opportunity_team.delete',
  'activity.insert',
  'activity.update',
  'activity.hand-off',
  'activity.delete',
] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** Relative frequencies: mostly edits, as in the field. */
const WEIGHTS: Record<ChangeKind, number> = {
  'account.insert': 6,
  'account.rename': 8,
  'account.rename-taken': 3,
  'account.hand-off': 2,
  'account.delete': 2,
  'contact.insert': 9,
  'contact.update': 14,
  'contact.delete': 4,
  'opportunity.insert': 7,
  'opportunity.update': 14,
  'opportunity.hand-off': 3,
  'opportunity.delete': 2,
  'opportunity_team.insert': 6,
  'opportunity_team.update': 3,
  'opportunity_team.delete': 4,
  'activity.insert': 6,
  'activity.update': 8,
  'activity.hand-off': 1,
  'activity.delete': 3,
};
const TOTAL_WEIGHT = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);

export const STAGES = ['prospect', 'qualify', 'proposal', 'negotiation', 'won', 'lost'];
/** Names several laptops may give an account at once. */
export const SHARED_NAMES = 5;

export interface ChangeContext {
  rand: () => number;
  laptop: string;
  user: string;
  users: readonly string[];
  /** A number unique within the laptop, for fresh names. */
  serial: () => number;
}

type Row = Record<string, string | number | null>;
type Db = LocalStore['db'];

/** Makes one change and returns what it was (a kind needing a row the laptop lacks inserts an account). */
export function makeChange(db: Db, ctx: ChangeContext): ChangeKind {
  const kind = pickKind(ctx.rand);
  const done = apply(db, ctx, kind);
  if (done) return kind;
  apply(db, ctx, 'account.insert');
  return 'account.insert';
}

function apply(db: Db, ctx: ChangeContext, kind: ChangeKind): boolean {
  const { rand } = ctx;
  const fresh = (what: string) => `${ctx.laptop} ${what} ${ctx.serial()}`;
  switch (kind) {
    case 'account.insert':
      run(db, 'INSERT INTO account (id, name, owner_login) VALUES (?, ?, ?)', [
        uuid(rand),
        rand() < 0.2 ? takenName(db, rand) : fresh('account'),
        ctx.user,
      ]);
      return true;
    case 'account.rename':
    case 'account.rename-taken': {
      const row = pick(db, 'account', rand);
      if (!row) return false;
      const name = differing(row.name, () =>
        kind === 'account.rename' ? fresh('renamed') : takenName(db, rand),
      );
      if (name === null) return false;
      run(db, 'UPDATE account SET name = ? WHERE id = ?', [name, row.id]);
      return true;
    }
    case 'account.hand-off': {
      const row = pick(db, 'account', rand);
      if (!row) return false;
      run(db, 'UPDATE account SET owner_login = ? WHERE id = ?', [other(ctx, row.owner_login), row.id]);
      return true;
    }
    case 'account.delete': {
      const row = pick(db, 'account', rand);
      if (!row) return false;
      // Half the time the application removes the children too; otherwise they stay, and another
      // laptop may be editing them offline.
      if (rand() < 0.5) {
        run(
          db,
          'DELETE FROM opportunity_team WHERE opportunity_id IN (SELECT id FROM opportunity WHERE account_id = ?)',
          [row.id],
        );
        run(
          db,
          'DELETE FROM activity WHERE opportunity_id IN (SELECT id FROM opportunity WHERE account_id = ?)',
          [row.id],
        );
        run(db, 'DELETE FROM opportunity WHERE account_id = ?', [row.id]);
        run(db, 'DELETE FROM contact WHERE account_id = ?', [row.id]);
      }
      run(db, 'DELETE FROM account WHERE id = ?', [row.id]);
      return true;
    }
    case 'contact.insert': {
      const account = pick(db, 'account', rand);
      if (!account) return false;
      run(db, 'INSERT INTO contact (id, account_id, first_name, last_name, email) VALUES (?, ?, ?, ?, ?)', [
        uuid(rand),
        account.id,
        rand() < 0.2 ? null : fresh('first'),
        fresh('last'),
        rand() < 0.3 ? null : `c${ctx.serial()}@${ctx.laptop}.example`,
      ]);
      return true;
    }
    case 'contact.update': {
      const row = pick(db, 'contact', rand);
      if (!row) return false;
      const column = choose(rand, ['first_name', 'last_name', 'email', 'phone']);
      // Fresh values always differ from the current one.
      const value =
        column === 'email'
          ? `c${ctx.serial()}@${ctx.laptop}.example`
          : column === 'phone'
            ? `+1 555 ${ctx.serial()}`
            : fresh(column);
      run(db, `UPDATE contact SET ${column} = ? WHERE id = ?`, [value, row.id]);
      return true;
    }
    case 'opportunity.insert': {
      const account = pick(db, 'account', rand);
      if (!account) return false;
      run(
        db,
        `INSERT INTO opportunity (id, account_id, name, stage, amount, close_date, owner_login)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [
          uuid(rand),
          account.id,
          fresh('deal'),
          choose(rand, STAGES),
          rand() < 0.2 ? null : amount(rand),
          rand() < 0.2 ? null : closeDate(rand),
          ctx.user,
        ],
      );
      return true;
    }
    case 'opportunity.update': {
      const row = pick(db, 'opportunity', rand);
      if (!row) return false;
      const column = choose(rand, ['stage', 'amount', 'close_date', 'name', 'probability']);
      const generate: Record<string, () => string | number> = {
        probability: () => 10 * Math.floor(rand() * 11),
        stage: () => choose(rand, STAGES),
        amount: () => amount(rand),
        close_date: () => closeDate(rand),
        name: () => fresh('deal'),
      };
      const value = differing(row[column], generate[column]);
      if (value === null) return false;
      run(db, `UPDATE opportunity SET ${column} = ? WHERE id = ?`, [value, row.id]);
      return true;
    }
    case 'opportunity.hand-off': {
      const row = pick(db, 'opportunity', rand);
      if (!row) return false;
      run(db, 'UPDATE opportunity SET owner_login = ? WHERE id = ?', [other(ctx, row.owner_login), row.id]);
      return true;
    }
    case 'opportunity.delete': {
      const row = pick(db, 'opportunity', rand);
      if (!row) return false;
      if (rand() < 0.5) {
        run(db, 'DELETE FROM opportunity_team WHERE opportunity_id = ?', [row.id]);
        run(db, 'DELETE FROM activity WHERE opportunity_id = ?', [row.id]);
      }
      run(db, 'DELETE FROM opportunity WHERE id = ?', [row.id]);
      return true;
    }
    case 'opportunity_team.insert': {
      const opp = pick(db, 'opportunity', rand);
      if (!opp) return false;
      run(db, 'INSERT INTO opportunity_team (id, opportunity_id, user_login) VALUES (?, ?, ?)', [
        uuid(rand),
        opp.id,
        choose(rand, ctx.users),
      ]);
      return true;
    }
    case 'opportunity_team.update': {
      const row = pick(db, 'opportunity_team', rand);
      if (!row) return false;
      run(db, 'UPDATE opportunity_team SET user_login = ? WHERE id = ?', [
        other(ctx, row.user_login),
        row.id,
      ]);
      return true;
    }
    case 'activity.insert': {
      const opp = pick(db, 'opportunity', rand);
      if (!opp) return false;
      run(
        db,
        'INSERT INTO activity (id, opportunity_id, subject, due_on, owner_login, done) VALUES (?, ?, ?, ?, ?, ?)',
        [
          uuid(rand),
          opp.id,
          fresh('call'),
          rand() < 0.3 ? null : closeDate(rand),
          ctx.user,
          rand() < 0.2 ? 1 : 0,
        ],
      );
      return true;
    }
    case 'activity.update': {
      const row = pick(db, 'activity', rand);
      if (!row) return false;
      const column = choose(rand, ['subject', 'due_on', 'done']);
      const value =
        column === 'subject'
          ? fresh('call')
          : column === 'done'
            ? 1 - Number(row.done)
            : differing(row.due_on, () => closeDate(rand));
      if (value === null) return false;
      run(db, `UPDATE activity SET ${column} = ? WHERE id = ?`, [value, row.id]);
      return true;
    }
    case 'activity.hand-off': {
      const row = pick(db, 'activity', rand);
      if (!row) return false;
      run(db, 'UPDATE activity SET owner_login = ? WHERE id = ?', [other(ctx, row.owner_login), row.id]);
      return true;
    }
    case 'contact.delete':
    case 'opportunity_team.delete':
    case 'activity.delete': {
      const table = kind.split('.')[0];
      const row = pick(db, table, rand);
      if (!row) return false;
      run(db, `DELETE FROM ${table} WHERE id = ?`, [row.id]);
      return true;
    }
  }
}

function pickKind(rand: () => number): ChangeKind {
  let r = rand() * TOTAL_WEIGHT;
  for (const kind of CHANGE_KINDS) {
    r -= WEIGHTS[kind];
    if (r < 0) return kind;
  }
  return CHANGE_KINDS[CHANGE_KINDS.length - 1];
}

/**
 * A generated value other than `current` (a few tries; null if every try hit it): an update that
 * writes the value a row already holds changes nothing and is not captured, and the storm counts
 * on every change being sent.
 */
function differing<T extends string | number>(current: unknown, generate: () => T): T | null {
  for (let i = 0; i < 8; i += 1) {
    const value = generate();
    if (value !== current) return value;
  }
  return null;
}

function run(db: Db, sql: string, params: unknown[]): void {
  db.prepare(sql).run(...params);
}

/** A row of `table` chosen by the seed alone: the n-th by id. */
function pick(db: Db, table: string, rand: () => number): Row | null {
  const { n } = db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
  if (n === 0) return null;
  return db.prepare(`SELECT * FROM ${table} ORDER BY id LIMIT 1 OFFSET ?`).get(Math.floor(rand() * n)) as Row;
}

/** A name another account holds (on this laptop, or one of the names laptops share). */
function takenName(db: Db, rand: () => number): string {
  if (rand() < 0.5) {
    const row = pick(db, 'account', rand);
    if (row) return String(row.name);
  }
  return `Shared ${Math.floor(rand() * SHARED_NAMES)}`;
}

function other(ctx: ChangeContext, current: string | number | null): string {
  const others = ctx.users.filter((u) => u !== current);
  return choose(ctx.rand, others.length > 0 ? others : ctx.users);
}

function choose<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

function amount(rand: () => number): string {
  return `${Math.floor(rand() * 1_000_000)}.${String(Math.floor(rand() * 100)).padStart(2, '0')}`;
}

function closeDate(rand: () => number): string {
  const month = 1 + Math.floor(rand() * 12);
  const day = 1 + Math.floor(rand() * 28);
  return `2027-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** A version 4 UUID from the seed, so a replay inserts the same ids. */
export function uuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(rand() * 4)];
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
