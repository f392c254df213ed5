import { CAPTURE_PROBE_PREFIX } from '@outpost/schema';

interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface CaptureBarrierOptions {
  timeoutMs?: number;
  pollMs?: number;
}

/**
 * Waits until every transaction committed before this call is in sync_txn_log: a non-transactional
 * probe message reaches the capture after all of them, and the capture records its position once
 * they are written. Resolves false when the capture did not get there in time (the router is down
 * or far behind); callers then work with the log as it is. Safe inside an open transaction: the
 * probe is not part of it and the position is re-read by every poll (READ COMMITTED).
 */
export async function captureBarrier(q: Queryable, opts: CaptureBarrierOptions = {}): Promise<boolean> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const pollMs = opts.pollMs ?? 5;
  const probe = (await q.query(`SELECT pg_logical_emit_message(false, $1, '')::text AS lsn`, [
    CAPTURE_PROBE_PREFIX,
  ])) as { rows: Array<{ lsn: string }> };
  const lsn = probe.rows[0].lsn;
  const deadline = Date.now() + timeoutMs;
  let wait = pollMs;
  for (;;) {
    const res = (await q.query(`SELECT lsn >= $1::pg_lsn AS done FROM sync_capture_position`, [lsn])) as {
      rows: Array<{ done: boolean }>;
    };
    if (res.rows[0]?.done === true) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 100);
  }
}
