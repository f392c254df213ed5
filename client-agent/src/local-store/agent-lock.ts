import * as fs from 'node:fs';
import { AgentError, AgentErrorCode } from '../errors';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One agent command at a time may change the outbox and inbox folders. The lock file names its holder;
 * a lock left by a process that no longer runs is taken over.
 */
export function acquireAgentLock(lockFile: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockFile, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
        throw new AgentError(
          AgentErrorCode.StoreBusy,
          `another sync-agent (pid ${holder}) is working on this folder; wait for it to finish (lock file ${lockFile})`,
        );
      }
      fs.rmSync(lockFile, { force: true });
    }
  }
  throw new AgentError(
    AgentErrorCode.StoreBusy,
    `cannot take the lock file ${lockFile}; remove it if no sync-agent is running`,
  );
}
