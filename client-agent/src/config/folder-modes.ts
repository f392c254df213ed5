import * as fs from 'node:fs';
import { agentPaths } from './agent-config';

/** The folder is the agent's alone; the secret and the local copy of the business data are the owner's. */
export const FOLDER_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/**
 * Takes group and other access away from a client folder, its credentials and its SQLite files
 * (with -wal and -shm, which hold recent writes). Looser modes are tightened rather than only
 * reported: the folder holds nothing but the agent's own files, so no one's legitimate use
 * depends on them being shared, and a warning would leave the secret readable until someone acts
 * on it. Returns one line per change so the command can say what it did (a folder found open may
 * mean the secret was read: rotate it). A folder without agent.json is not a client folder and is
 * left alone, so a mistyped --dir never changes the modes of an unrelated directory.
 */
export function secureAgentFolder(dir: string): string[] {
  const paths = agentPaths(dir);
  if (!fs.existsSync(paths.config)) return [];
  const changes: string[] = [];
  const restrict = (file: string, mode: number) => {
    let current: number;
    try {
      current = fs.statSync(file).mode & 0o777;
    } catch {
      return; // not created yet (no -wal while the store is closed)
    }
    if ((current & 0o077) === 0) return;
    fs.chmodSync(file, mode);
    changes.push(`${file} was ${octal(current)}, now ${octal(mode)}`);
  };
  restrict(dir, FOLDER_MODE);
  for (const file of [paths.credentials, paths.db, `${paths.db}-wal`, `${paths.db}-shm`])
    restrict(file, PRIVATE_FILE_MODE);
  return changes;
}

/** Creates the store file owner-only before SQLite opens it; SQLite gives -wal and -shm the same mode. */
export function createPrivateFile(file: string): void {
  fs.closeSync(fs.openSync(file, 'a', PRIVATE_FILE_MODE));
}
