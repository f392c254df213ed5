import { conflictHolder, hideHolders } from './conflict-holders';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const H = '00000000-0000-4000-8000-0000000000ff';

describe('conflict holders', () => {
  it('names the holder of a marked row, and nothing for unmarked or self-marked rows', () => {
    expect(conflictHolder(A, { id: A, sync_conflict_of: H })).toBe(H);
    expect(conflictHolder(A, { id: A, sync_conflict_of: null })).toBeNull();
    expect(conflictHolder(A, { id: A, sync_conflict_of: A })).toBeNull();
  });

  it('replaces a holder the laptop may not see with the row itself, and keeps a visible one', () => {
    const rows = [
      { id: A, row: { id: A, name: 'x', sync_conflict_of: H } },
      { id: B, row: { id: B, name: 'y', sync_conflict_of: null } },
    ];
    expect(hideHolders(rows, new Set()).map((r) => r.row.sync_conflict_of)).toEqual([A, null]);
    expect(hideHolders(rows, new Set([H])).map((r) => r.row.sync_conflict_of)).toEqual([H, null]);
    expect(rows[0].row.sync_conflict_of).toBe(H);
  });
});
