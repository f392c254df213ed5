import type { PoolClient } from 'pg';
import { compileVisibility, salesSchema } from '@outpost/schema';
import { knownRows } from './chunk-rows';
import { rowKey } from './chunk-types';
import { WriteGuard } from './write-guard';

const ACCOUNT = '11111111-1111-4111-8111-111111111111';
const OTHER_ACCOUNT = '22222222-2222-4222-8222-222222222222';
const CONTACT = '33333333-3333-4333-8333-333333333333';
const ORPHAN = '44444444-4444-4444-8444-444444444444';
const INSERTED = '55555555-5555-4555-8555-555555555555';

/** A connection that records the ids each visibility query asks about and answers with `visible`. */
function recordingDb(visible: Set<string>): { db: PoolClient; asked: string[][] } {
  const asked: string[][] = [];
  const db = {
    query: async (_sql: string, [ids]: [string[], string]) => {
      asked.push(ids);
      return { rows: ids.filter((id) => visible.has(id)).map((row_id) => ({ row_id })) };
    },
  } as unknown as PoolClient;
  return { db, asked };
}

describe('WriteGuard.seen', () => {
  const guard = new WriteGuard(salesSchema, compileVisibility(salesSchema));

  it('proves own and parent visibility from known values without asking Postgres', async () => {
    const { db, asked } = recordingDb(new Set());
    const seen = await guard.seen(
      db,
      'ann',
      new Map([
        ['account', new Set([ACCOUNT])],
        ['contact', new Set([CONTACT])],
      ]),
      knownRows([
        ['account', ACCOUNT, { id: ACCOUNT, name: 'A', owner_login: 'ann' }],
        ['contact', CONTACT, { id: CONTACT, account_id: ACCOUNT, last_name: 'C' }],
      ]),
    );
    expect(seen).toEqual(new Set([rowKey('account', ACCOUNT), rowKey('contact', CONTACT)]));
    expect(asked).toEqual([]);
  });

  it('asks Postgres about every row the known values do not prove, and trusts its answer', async () => {
    // Another user's account may still be visible through an opportunity (referencedBy): only
    // Postgres can say. A contact of an account not known here is asked too.
    const { db, asked } = recordingDb(new Set([OTHER_ACCOUNT]));
    const seen = await guard.seen(
      db,
      'ann',
      new Map([
        ['account', new Set([OTHER_ACCOUNT])],
        ['contact', new Set([ORPHAN])],
      ]),
      knownRows([
        ['account', OTHER_ACCOUNT, { id: OTHER_ACCOUNT, name: 'B', owner_login: 'bob' }],
        ['contact', ORPHAN, { id: ORPHAN, account_id: ACCOUNT, last_name: 'O' }],
      ]),
    );
    expect(asked).toEqual([[OTHER_ACCOUNT], [ORPHAN]]);
    expect(seen).toEqual(new Set([rowKey('account', OTHER_ACCOUNT)]));
  });

  it('counts a row known to be absent as not seen, without a query', async () => {
    const { db, asked } = recordingDb(new Set([INSERTED]));
    const seen = await guard.seen(
      db,
      'ann',
      new Map([['account', new Set([INSERTED])]]),
      knownRows([['account', INSERTED, null]]),
    );
    expect(seen.size).toBe(0);
    expect(asked).toEqual([]);
  });

  it('asks about everything when nothing is known', async () => {
    const { db, asked } = recordingDb(new Set([ACCOUNT]));
    const seen = await guard.seen(db, 'ann', new Map([['account', new Set([ACCOUNT, 'not-a-uuid'])]]));
    expect(asked).toEqual([[ACCOUNT]]);
    expect(seen).toEqual(new Set([rowKey('account', ACCOUNT)]));
  });
});
