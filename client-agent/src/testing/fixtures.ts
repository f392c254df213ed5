import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { salesHistory } from '@outpost/schema';
import { agentPaths, SyncConfig, writeAgentConfig } from '../config/agent-config';
import { createPrivateFile } from '../config/folder-modes';
import { Io } from '../io';
import { LocalStore } from '../local-store/local-store';

/** A client folder in a fresh temp dir with config written and the store created. */
export function makeClientFolder(server = 'http://127.0.0.1:9'): {
  cfg: SyncConfig;
  store: LocalStore;
  cleanup: () => void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'outpost-agent-'));
  const cfg: SyncConfig = { dir, server, client: 'laptop-1', secret: 'secret-1', schema: 'sales' };
  writeAgentConfig(cfg);
  const paths = agentPaths(dir);
  for (const d of [paths.outbox, paths.sent, paths.inbox]) fs.mkdirSync(d, { recursive: true });
  createPrivateFile(paths.db);
  const store = LocalStore.open(paths.db, salesHistory);
  return { cfg, store, cleanup: () => (store.close(), fs.rmSync(dir, { recursive: true, force: true })) };
}

/** Io that records what a command prints; `stdin` is what it reads from standard input. */
export function bufferIo(stdin?: string): Io & { stdoutText: () => string; stderrText: () => string } {
  let out = '';
  let err = '';
  const stdout = {
    write: (chunk: string | Uint8Array) => {
      out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return {
    out: (t) => (out += t),
    err: (t) => (err += t),
    tty: false,
    stdout,
    stdin: () => Readable.from(stdin === undefined ? [] : [stdin]),
    stdoutText: () => out,
    stderrText: () => err,
  };
}

export const ACCOUNT_A = '00000000-0000-4000-8000-00000000000a';
export const ACCOUNT_B = '00000000-0000-4000-8000-00000000000b';
export const ACCOUNT_C = '00000000-0000-4000-8000-00000000000c';
