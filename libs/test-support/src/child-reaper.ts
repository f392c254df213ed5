import { type ChildProcess, spawn } from 'node:child_process';
import type { Socket } from 'node:net';

/*
 * Services started by the launcher must not outlive the process that started it, however that
 * process ends (a crashed or killed jest worker runs no exit handlers, and inside jest the
 * `process` object is a sandbox copy whose 'exit' listeners never fire). A small detached
 * watcher holds the other end of a pipe: when the pipe closes, because the owner exited or
 * died, it SIGKILLs every process still registered.
 */
const WATCHER_SOURCE = `
const pids = new Set();
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  let end;
  while ((end = buffered.indexOf('\\n')) >= 0) {
    const [op, pid] = buffered.slice(0, end).split(' ');
    buffered = buffered.slice(end + 1);
    if (op === '+') pids.add(Number(pid)); else pids.delete(Number(pid));
  }
});
const reap = () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.exit(0);
};
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

let watcher: ChildProcess | undefined;
const registered = new Set<number>();

/** Registers a child so it is killed if this process ends before the child does. */
export function registerChild(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined) return;
  registered.add(pid);
  send(`+ ${pid}`);
  child.once('exit', () => {
    registered.delete(pid);
    send(`- ${pid}`);
    if (registered.size === 0) retireWatcher();
  });
}

function send(line: string): void {
  const stdin = ensureWatcher().stdin;
  if (stdin && !stdin.destroyed) stdin.write(`${line}\n`);
}

function ensureWatcher(): ChildProcess {
  if (watcher && watcher.exitCode === null && watcher.signalCode === null) return watcher;
  const started = spawn(process.execPath, ['-e', WATCHER_SOURCE], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  // Neither the watcher nor its pipe may keep this process alive.
  started.unref();
  const stdin = started.stdin as Socket | null;
  stdin?.unref();
  // The watcher gone early only means nothing is left to guard; the write must not crash us.
  stdin?.on('error', () => undefined);
  watcher = started;
  return started;
}

function retireWatcher(): void {
  watcher?.stdin?.end();
  watcher = undefined;
}
