/**
 * Where a sync may be made to die abruptly, so that tests can prove every step is safe to repeat
 * after a crash. Set only through the hidden `--test-crash` option (SYNC_AGENT_TEST_CRASH).
 */
export type CrashPoint = 'after-upload' | 'mid-download';
export const CRASH_POINTS: readonly CrashPoint[] = ['after-upload', 'mid-download'];

/** Dies the way a laptop does when its power goes: no cleanup, no flushing beyond what is written. */
export function crashNow(): never {
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable: the process was killed');
}
