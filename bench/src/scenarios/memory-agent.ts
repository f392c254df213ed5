/**
 * The agent side of the memory scenario, in its own process so that its peak RSS is its own:
 *   node memory-agent.js upload <server> <client> <secret> <fileSeq> <sha256> <file>
 *   node memory-agent.js sync <dir>
 * Prints one JSON line: { maxRssBytes, ms, ... }.
 */
import { DX_VERSION } from '@outpost/dx-format';
import { createProgress, GatewayClient, loadSyncConfig, runSync } from '@outpost/client-agent';
import { statusBytes } from '../harness/proc';

const AGENT_VERSION = '0.1.0';

async function upload(
  server: string,
  client: string,
  secret: string,
  fileSeq: number,
  sha256: string,
  file: string,
) {
  const gateway = new GatewayClient(server, { timeoutMs: 600_000 });
  try {
    await gateway.openSession({ client, secret, agentVersion: AGENT_VERSION, formatVersion: DX_VERSION });
    const response = await gateway.upload(fileSeq, file, sha256, () => undefined);
    await gateway.closeSession({ result: { ok: true, uploadedFiles: 1, downloadedFiles: 0 } });
    return { status: response.status };
  } finally {
    gateway.close();
  }
}

async function sync(dir: string) {
  const summary = await runSync(loadSyncConfig(dir), {
    upload: true,
    download: true,
    extractTimeoutMs: 600_000,
    progress: createProgress({ tty: false }),
  });
  return { downloaded: summary.downloaded };
}

async function run(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  const started = performance.now();
  let result: Record<string, unknown>;
  if (mode === 'upload' && args.length === 6)
    result = await upload(args[0], args[1], args[2], Number(args[3]), args[4], args[5]);
  else if (mode === 'sync' && args.length === 1) result = await sync(args[0]);
  else
    throw new Error(
      'usage: memory-agent.js upload <server> <client> <secret> <fileSeq> <sha256> <file> | sync <dir>',
    );
  // VmHWM, not getrusage's maxRSS: Linux carries maxRSS across exec, so a child would report the
  // peak of the bench process that spawned it.
  const maxRssBytes = statusBytes(process.pid, 'VmHWM');
  if (maxRssBytes === null) throw new Error('cannot read VmHWM from /proc/self/status');
  process.stdout.write(`${JSON.stringify({ ...result, maxRssBytes, ms: performance.now() - started })}\n`);
}

run().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
