import type { DxUploadTransaction } from '@outpost/dx-format';
import { defineSchema } from '@outpost/schema';
import { ApplyRejection } from './apply-rejection';
import { resolveChunk } from './chunk-resolver';
import { indexTxn, rowKey, type ServerRow } from './chunk-types';
import { markDuplicateKeys } from './duplicate-keys';

const schema = defineSchema({
  name: 'policies',
  version: 1,
  tables: [
    {
      name: 'note',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'title', type: 'text' },
        { name: 'body', type: 'text', nullable: true },
        { name: 'amount', type: 'decimal', precision: 10, scale: 2, nullable: true },
      ],
      visibility: [{ everyone: true }],
      conflict: { update: 'client-wins', delete: 'resurrect' },
      uniqueKey: ['title'],
    },
    {
      name: 'memo',
      columns: [
        { name: 'id', type: 'uuid' },
        { name: 'title', type: 'text' },
      ],
      visibility: [{ everyone: true }],
      conflict: { update: 'latest-wins' },
    },
  ],
});

const ID = '00000000-0000-4000-8000-000000000001';
const server = (
  values: Record<string, unknown>,
  updatedAt = '2024-05-01T12:00:00.000Z',
  version = 2,
): ServerRow => ({
  values: { id: ID, ...values } as ServerRow['values'],
  conflictOf: null,
  version,
  updatedAt,
});
const update = (
  table: string,
  changes: Record<string, [unknown, unknown]>,
  at = '2024-05-01T13:00:00.000Z',
): DxUploadTransaction =>
  ({
    seq: 1,
    at,
    user: 'alice',
    table,
    id: ID,
    op: 'update',
    base: 1,
    changes: Object.fromEntries(Object.entries(changes).map(([k, [o, n]]) => [k, { old: o, new: n }])),
  }) as DxUploadTransaction;

function run(loaded: Map<string, ServerRow>, txs: DxUploadTransaction[]) {
  return resolveChunk(
    { schema, client: 'laptop-a', loaded, recentOrigins: new Map() },
    txs.map((tx, index) => ({ index, tx, at: tx.at })),
  );
}

describe('resolveChunk', () => {
  it('merges changes to different columns and takes the client value under client-wins', () => {
    const loaded = new Map([
      [rowKey('note', ID), server({ title: 'T', body: 'server body', amount: { $dec: '5.00' } })],
    ]);
    const { outcomes, conflicts } = run(loaded, [
      update('note', { body: ['old body', 'client body'], amount: [{ $dec: '5' }, { $dec: '7.5' }] }),
    ]);
    expect(outcomes[0].after?.values).toMatchObject({ body: 'client body', amount: { $dec: '7.50' } });
    expect(conflicts).toEqual([
      expect.objectContaining({
        kind: 'update-update',
        column: 'body',
        winner: 'client',
        policy: 'client-wins',
      }),
    ]);
    expect(outcomes[0].echo).toBe(false);
  });

  it('latest-wins compares the client time with the server row time', () => {
    const loaded = new Map([[rowKey('memo', ID), server({ title: 'server' }, '2024-05-01T12:00:00.000Z')]]);
    const later = run(loaded, [update('memo', { title: ['base', 'client'] }, '2024-05-01T12:00:01.000Z')]);
    expect(later.outcomes[0].after?.values.title).toBe('client');
    expect(later.conflicts[0].winner).toBe('client');
    const earlier = run(loaded, [update('memo', { title: ['base', 'client'] }, '2024-05-01T11:59:59.000Z')]);
    expect(earlier.outcomes[0].after?.values.title).toBe('server');
    expect(earlier.conflicts[0].winner).toBe('server');
    expect(earlier.outcomes[0].echo).toBe(true);
  });

  it('latest-wins never trusts a laptop time later than the receipt of its file, and records the clamp', () => {
    const loaded = new Map([[rowKey('memo', ID), server({ title: 'server' }, '2024-05-01T12:00:00.000Z')]]);
    const future = update('memo', { title: ['base', 'client'] }, '9999-01-01T00:00:00.000Z');
    const received = new Date('2024-05-01T11:00:00.000Z');
    const { outcomes, conflicts } = resolveChunk(
      { schema, client: 'laptop-a', loaded, recentOrigins: new Map() },
      [indexTxn(0, future, received)],
    );
    expect(outcomes[0].after?.values.title).toBe('server');
    expect(conflicts[0]).toMatchObject({
      winner: 'server',
      clientAt: '9999-01-01T00:00:00.000Z',
      clientAtClamped: '2024-05-01T11:00:00.000Z',
    });
    const honest = indexTxn(0, update('memo', {}, '2024-05-01T10:00:00.000Z'), received);
    expect(honest.at).toBe('2024-05-01T10:00:00.000Z');
  });

  it('resurrects a deleted row from the client values when every required column has one', () => {
    const back = run(new Map(), [update('note', { title: ['T', 'T2'], body: ['a', 'b'] })]);
    expect(back.outcomes[0].after?.values).toEqual({ id: ID, title: 'T2', body: 'b', amount: null });
    expect(back.conflicts[0]).toMatchObject({ kind: 'update-delete', winner: 'client', policy: 'resurrect' });
    expect(back.outcomes[0].echo).toBe(true);
    const stays = run(new Map(), [update('note', { body: ['a', 'b'] })]);
    expect(stays.outcomes[0].after).toBeNull();
    expect(stays.conflicts[0]).toMatchObject({ kind: 'update-delete', winner: 'server' });
  });

  it('rejects an unknown column with its position', () => {
    expect(() => run(new Map(), [update('memo', { nope: ['a', 'b'] })])).toThrow(ApplyRejection);
    expect(() => run(new Map(), [update('memo', { nope: ['a', 'b'] })])).toThrow(
      /transaction #0 \(seq 1.*column "nope"/,
    );
  });

  it('marks the later of two rows inserted with the same business key', () => {
    const other = '00000000-0000-4000-8000-000000000002';
    const insert = (id: string, index: number): DxUploadTransaction =>
      ({
        seq: index + 1,
        at: '2024-05-01T00:00:00.000Z',
        user: 'u',
        table: 'note',
        id,
        op: 'insert',
        row: { id, title: 'Same' },
      }) as DxUploadTransaction;
    const { outcomes } = run(new Map(), [insert(ID, 0), insert(other, 1)]);
    const conflicts = markDuplicateKeys(outcomes, new Map(), () => '2024-05-01T00:00:00.000Z');
    expect(outcomes.find((o) => o.id === ID)?.after?.conflictOf).toBeNull();
    expect(outcomes.find((o) => o.id === other)?.after?.conflictOf).toBe(ID);
    expect(conflicts).toEqual([
      expect.objectContaining({ kind: 'duplicate-key', rowId: other, column: 'title' }),
    ]);
  });
});
