import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { agentPaths } from './agent-config';
import { secureAgentFolder } from './folder-modes';

const mode = (file: string) => fs.statSync(file).mode & 0o777;

describe('client folder modes', () => {
  let root: string;
  beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-modes-'))));
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('tightens a folder, credentials and SQLite files open to others, and says what it changed', () => {
    const paths = agentPaths(root);
    fs.writeFileSync(paths.config, '{}');
    for (const file of [paths.credentials, paths.db, `${paths.db}-wal`, `${paths.db}-shm`]) {
      fs.writeFileSync(file, 'x');
      fs.chmodSync(file, 0o644);
    }
    fs.chmodSync(root, 0o755);
    const changes = secureAgentFolder(root);
    expect(changes).toEqual([
      `${root} was 0755, now 0700`,
      `${paths.credentials} was 0644, now 0600`,
      `${paths.db} was 0644, now 0600`,
      `${paths.db}-wal was 0644, now 0600`,
      `${paths.db}-shm was 0644, now 0600`,
    ]);
    expect(mode(root)).toBe(0o700);
    for (const file of [paths.credentials, paths.db, `${paths.db}-wal`, `${paths.db}-shm`])
      expect(mode(file)).toBe(0o600);
    expect(secureAgentFolder(root)).toEqual([]);
  });

  it('leaves a folder without agent.json alone: a mistyped --dir changes nothing', () => {
    fs.chmodSync(root, 0o755);
    fs.writeFileSync(path.join(root, 'credentials.json'), 'x', { mode: 0o644 });
    expect(secureAgentFolder(root)).toEqual([]);
    expect(mode(root)).toBe(0o755);
    expect(mode(path.join(root, 'credentials.json'))).toBe(0o644);
  });
});
