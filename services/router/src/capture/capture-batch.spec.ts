import { Logger } from '@nestjs/common';
import type { Pgoutput } from 'pg-logical-replication';
import { salesSchema } from '@outpost/schema';
import { CaptureBatch, type BatchStart } from './capture-batch';
import type { CaptureRepository } from './capture.repository';
import { ChangeDecoder, type CapturedRow } from './change-decoder';

interface Write {
  ids: Array<string | null>;
  lsn: string | null;
  partial: { lsn: string; rows: number } | null;
}

const account = { id: 1, schema: 'public', name: 'account' } as unknown as Pgoutput.MessageRelation;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

const begin = (commitLsn: string) =>
  ({ tag: 'begin', commitLsn, commitTime: 1_700_000_000_000_000n, xid: 1 }) as unknown as Pgoutput.Message;
const insert = (n: number) =>
  ({ tag: 'insert', relation: account, new: { id: id(n), name: `a${n}` } }) as unknown as Pgoutput.Message;
const commit = (commitEndLsn: string) =>
  ({ tag: 'commit', commitLsn: commitEndLsn, commitEndLsn, flags: 0 }) as unknown as Pgoutput.Message;
const origin = (client: string) =>
  ({
    tag: 'message',
    transactional: true,
    prefix: 'outpost',
    content: Buffer.from(JSON.stringify({ kind: 'origin', client, user: 'alice' })),
  }) as unknown as Pgoutput.Message;

/** A batch over a repository that records its writes, and the positions acknowledged. */
function setup(start: BatchStart = { lsn: '0/100', partial: null }, rows = 3) {
  const writes: Write[] = [];
  const logged: CapturedRow[] = [];
  const acks: string[] = [];
  const repo = {
    async write(batch: CapturedRow[], lsn: string | null, partial: Write['partial']) {
      writes.push({ ids: batch.map((r) => r.rowId), lsn, partial });
      logged.push(...batch);
    },
  } as unknown as CaptureRepository;
  let captured = 0;
  const batch = new CaptureBatch(
    repo,
    new ChangeDecoder(salesSchema),
    { rows, bytes: 1024 * 1024 },
    start,
    (lsn) => acks.push(lsn),
    () => (captured += 1),
    new Logger('spec'),
  );
  const feed = async (...msgs: Pgoutput.Message[]) => {
    for (const m of msgs) await batch.handle(m);
  };
  return { batch, writes, logged, acks, feed, captured: () => captured };
}

describe('CaptureBatch', () => {
  it('writes whole transactions together and acknowledges their position only after the write', async () => {
    const { batch, writes, acks, feed, captured } = setup();
    await feed(begin('0/200'), insert(1), commit('0/210'), begin('0/300'), insert(2), commit('0/310'));
    expect(writes).toEqual([]);
    expect(acks).toEqual([]);
    expect(batch.waitingToWrite).toBe(true);
    await batch.flush();
    expect(writes).toEqual([{ ids: [id(1), id(2)], lsn: '0/310', partial: null }]);
    expect(acks).toEqual(['0/310']);
    expect(captured()).toBe(1);
  });

  it('writes a transaction larger than a batch in parts, each saying how many of its rows are logged', async () => {
    const { batch, writes, feed } = setup(undefined, 2);
    await feed(begin('0/500'), insert(1), insert(2), insert(3), insert(4), insert(5), commit('0/510'));
    await batch.flush();
    expect(writes).toEqual([
      { ids: [id(1), id(2)], lsn: null, partial: { lsn: '0/500', rows: 2 } },
      { ids: [id(3), id(4)], lsn: null, partial: { lsn: '0/500', rows: 4 } },
      { ids: [id(5)], lsn: '0/510', partial: null },
    ]);
  });

  it('after a restart, passes over the transactions the position covers and the logged rows of a partial one', async () => {
    const { batch, writes, feed } = setup({ lsn: '0/400', partial: { lsn: '0/500', rows: 2 } });
    await feed(begin('0/300'), insert(9), commit('0/310'));
    await feed(begin('0/500'), insert(1), insert(2), insert(3), commit('0/510'));
    await batch.flush();
    expect(writes).toEqual([{ ids: [id(3)], lsn: '0/510', partial: null }]);
  });

  it("gives the rows after an applier's origin message that origin", async () => {
    const { batch, logged, feed } = setup();
    await feed(begin('0/200'), origin('laptop-7'), insert(1), commit('0/210'));
    await feed(begin('0/300'), insert(2), commit('0/310'));
    await batch.flush();
    expect(logged.map((r) => [r.rowId, r.originClient, r.originUser])).toEqual([
      [id(1), 'laptop-7', 'alice'],
      [id(2), null, null],
    ]);
  });

  it('moves the slot to a keepalive position only while it holds nothing', async () => {
    const { batch, acks, feed } = setup();
    await feed(begin('0/200'), insert(1), commit('0/210'));
    batch.heartbeat('0/900');
    // Held rows: the slot stays where it was (nothing was confirmed yet).
    expect(acks).toEqual(['0/100']);
    await batch.flush();
    batch.heartbeat('0/900');
    expect(acks).toEqual(['0/100', '0/210', '0/900']);
  });
});
