import {
  assignSeqs,
  decideRow,
  orderOutbound,
  visibilityChanged,
  type OutboundOp,
  type RowState,
} from './route-plan';

const row = (over: Partial<RowState>): RowState => ({
  exists: true,
  recipients: new Set(),
  holders: new Set(),
  changes: [],
  ...over,
});
const change = (seq: number, originClient: string | null, echo = false, insert = false, del = false) => ({
  seq,
  originClient,
  echo,
  insert,
  delete: del,
});

describe('decideRow', () => {
  it('sends a newly visible row, and only holds it for the client that inserted it', () => {
    const state = row({ recipients: new Set(['B', 'C']), changes: [change(5, 'B', false, true)] });
    expect(decideRow(state, 'C', 0)).toBe('upsert');
    expect(decideRow(state, 'B', 0)).toBe('hold');
  });

  it('sends a row the client updated but does not hold: an eviction may have crossed its update', () => {
    const state = row({ recipients: new Set(['B']), changes: [change(5, 'B')] });
    expect(decideRow(state, 'B', 0)).toBe('upsert');
  });

  it('sends a changed row to holders except its origin, unless the change is an echo for it', () => {
    const both = { recipients: new Set(['B', 'C']), holders: new Set(['B', 'C']) };
    expect(decideRow(row({ ...both, changes: [change(5, 'B')] }), 'B', 0)).toBeNull();
    expect(decideRow(row({ ...both, changes: [change(5, 'B')] }), 'C', 0)).toBe('upsert');
    expect(decideRow(row({ ...both, changes: [change(5, 'B'), change(6, 'B', true)] }), 'B', 0)).toBe(
      'upsert',
    );
    expect(decideRow(row({ ...both, changes: [change(5, 'B'), change(6, 'C')] }), 'B', 0)).toBe('upsert');
    expect(decideRow(row({ ...both, changes: [change(5, null)] }), 'B', 0)).toBe('upsert');
  });

  it('ignores changes already inside the client extract', () => {
    const state = row({ recipients: new Set(['B']), holders: new Set(['B']), changes: [change(5, null)] });
    expect(decideRow(state, 'B', 5)).toBeNull();
    expect(decideRow(state, 'B', 4)).toBe('upsert');
  });

  it('does not send a holder the version it was already sent, unless an echo asks for it', () => {
    const held = {
      recipients: new Set(['B']),
      holders: new Set(['B']),
      version: 3,
      changes: [change(5, null)],
    };
    expect(decideRow(row({ ...held, heldVersions: new Map([['B', 3]]) }), 'B', 0)).toBeNull();
    expect(decideRow(row({ ...held, heldVersions: new Map([['B', 2]]) }), 'B', 0)).toBe('upsert');
    expect(decideRow(row({ ...held, heldVersions: new Map([['B', null]]) }), 'B', 0)).toBe('upsert');
    const echoed = { ...held, changes: [change(5, 'B'), change(6, 'B', true)] };
    expect(decideRow(row({ ...echoed, heldVersions: new Map([['B', 3]]) }), 'B', 0)).toBe('upsert');
  });

  it('sends a row deleted and inserted again in one batch, though its version is the one held', () => {
    const resurrected = row({
      recipients: new Set(['B']),
      holders: new Set(['B']),
      version: 1,
      heldVersions: new Map([['B', 1]]),
      changes: [change(5, 'A', false, false, true), change(6, 'C', false, true)],
    });
    expect(decideRow(resurrected, 'B', 0)).toBe('upsert');
  });

  it('does not send again a row inserted before the extract snapshot but logged after it', () => {
    const extracted = row({
      recipients: new Set(['B']),
      holders: new Set(['B']),
      version: 1,
      heldVersions: new Map([['B', 1]]),
      changes: [change(7, null, false, true)],
    });
    expect(decideRow(extracted, 'B', 5)).toBeNull();
  });

  it('evicts a row that left the client, and leaves untouched rows alone', () => {
    expect(decideRow(row({ holders: new Set(['B']) }), 'B', 0)).toBe('evict');
    expect(decideRow(row({ recipients: new Set(['B']), holders: new Set(['B']) }), 'B', 0)).toBeNull();
    expect(decideRow(row({}), 'B', 0)).toBeNull();
  });

  it('deletes a gone row at its holders, silently for the client that deleted it', () => {
    const gone = row({ exists: false, holders: new Set(['B', 'C']), changes: [change(9, 'B')] });
    expect(decideRow(gone, 'C', 0)).toBe('delete');
    expect(decideRow(gone, 'B', 0)).toBe('forget');
    expect(decideRow(row({ exists: false, changes: [change(9, 'B')] }), 'D', 0)).toBeNull();
  });

  it('tells the origin of a refused change the server state of a row it never held', () => {
    const neverMade = row({ exists: false, changes: [change(9, 'B', true)] });
    expect(decideRow(neverMade, 'B', 0)).toBe('delete');
    expect(decideRow(neverMade, 'C', 0)).toBeNull();
    expect(decideRow(neverMade, 'B', 9)).toBeNull();
    const elsewhere = row({ recipients: new Set(['C']), changes: [change(9, 'B', true)] });
    expect(decideRow(elsewhere, 'B', 0)).toBe('evict');
  });

  it('evicts a row the client changed out of its own visibility, though it never held it', () => {
    const handedOff = row({ recipients: new Set(['C']), changes: [change(9, 'B')] });
    expect(decideRow(handedOff, 'B', 0)).toBe('evict');
    expect(decideRow(handedOff, 'B', 9)).toBeNull();
    expect(decideRow(handedOff, 'D', 0)).toBeNull();
  });
});

describe('decideRow for a refused change', () => {
  it('takes a row the client never held from its origin alone, evicted when it exists, deleted when not', () => {
    const forged = row({
      recipients: new Set(['A']),
      holders: new Set(['A']),
      changes: [change(7, 'M', true)],
    });
    expect(decideRow(forged, 'M', 0)).toBe('evict');
    expect(decideRow(forged, 'A', 0)).toBe('upsert');
    const never = row({ exists: false, changes: [change(7, 'M', true)] });
    expect(decideRow(never, 'M', 0)).toBe('delete');
    expect(decideRow(never, 'A', 0)).toBeNull();
    expect(decideRow(never, 'M', 7)).toBeNull();
  });
});

describe('visibilityChanged', () => {
  it('is true when a client gains or loses the row', () => {
    expect(visibilityChanged(row({ recipients: new Set(['B']) }), ['B'])).toBe(true);
    expect(visibilityChanged(row({ holders: new Set(['B']) }), ['B'])).toBe(true);
    expect(
      visibilityChanged(row({ exists: false, recipients: new Set(['B']), holders: new Set(['B']) }), ['B']),
    ).toBe(true);
    expect(visibilityChanged(row({ recipients: new Set(['B']), holders: new Set(['B']) }), ['B', 'C'])).toBe(
      false,
    );
  });
});

describe('orderOutbound', () => {
  const cause = (seq: number) => ({ seq, at: '2026-01-01T00:00:00.000Z', user: '' });
  const up = (table: string, id: string, seq: number): OutboundOp => ({
    op: 'upsert',
    table,
    id,
    version: 1,
    bytes: 100,
    cause: cause(seq),
  });
  const ev = (table: string, id: string, seq: number): OutboundOp => ({
    op: 'evict',
    table,
    id,
    cause: cause(seq),
  });

  it('puts upserts parents first, then deletes and evicts children first', () => {
    const order = ['account', 'contact', 'opportunity'];
    const sorted = orderOutbound(
      [ev('account', 'a1', 1), up('contact', 'c1', 1), ev('contact', 'c2', 3), up('account', 'a2', 9)],
      order,
    );
    expect(sorted.map((o) => `${o.op}:${o.id}`)).toEqual(['upsert:a2', 'upsert:c1', 'evict:c2', 'evict:a1']);
  });
});

describe('assignSeqs', () => {
  it('keeps the causing log seq where it increases and bumps it where it does not', () => {
    expect(assignSeqs([10, 12, 11, 11, 30], 0)).toEqual([10, 12, 13, 14, 30]);
    expect(assignSeqs([5, 6], 8)).toEqual([9, 10]);
  });
});
