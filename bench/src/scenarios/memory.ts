import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { DX_FORMAT, DX_VERSION, writeDxFile, type DxHeader, type DxTransaction } from '@outpost/dx-format';
import { waitFor, type ServerService } from '@outpost/test-support';
import { newAgent, registerClient } from '../fixtures/agents';
import { appliedTxns, routerCaughtUp } from '../fixtures/server-rows';
import { main } from '../harness/main';
import { findProcess, RssSampler } from '../harness/proc';
import { figure, repeat, type Scenario } from '../harness/scenario';

const MiB = 1024 * 1024;
const LIMIT_MB = 256;
/** Characters of random base64 per row: gzip keeps about 3/4 of them, so the file on disk is the size asked for. */
const ROW_CHARS = 64 * 1024;
const SERVICES: ServerService[] = ['sync-gateway', 'inbox-store', 'applier', 'router'];

/**
 * An upload DX file of about `bytesOnDisk` compressed bytes: one account and contacts whose last
 * name is random base64, so the content does not compress to nothing.
 */
async function writeBigUpload(file: string, client: string, user: string, bytesOnDisk: number) {
  const contacts = Math.max(1, Math.ceil(bytesOnDisk / (ROW_CHARS * 0.76)));
  const count = contacts + 1;
  const at = new Date().toISOString();
  const header: DxHeader = {
    format: DX_FORMAT,
    version: DX_VERSION,
    client,
    fileSeq: 1,
    direction: 'upload',
    firstSeq: 1,
    lastSeq: count,
    count,
    createdAt: at,
  };
  const account = randomUUID();
  async function* transactions(): AsyncGenerator<DxTransaction> {
    yield {
      seq: 1,
      at,
      user,
      table: 'account',
      id: account,
      op: 'insert',
      row: { id: account, name: `memory ${account}`, owner_login: user },
    };
    for (let i = 0; i < contacts; i++) {
      const id = randomUUID();
      yield {
        seq: i + 2,
        at,
        user,
        table: 'contact',
        id,
        op: 'insert',
        row: {
          id,
          account_id: account,
          first_name: `Big ${i}`,
          last_name: randomBytes((ROW_CHARS / 4) * 3).toString('base64'),
          email: null,
        },
      };
    }
  }
  const written = await writeDxFile(file, header, transactions());
  return { ...written, count, contentBytes: contacts * ROW_CHARS };
}

interface AgentRun {
  maxRssBytes: number;
  ms: number;
}

/** Runs the agent side in a child process, which reports its own peak RSS. */
function runAgentProcess(args: string[]): Promise<AgentRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(__dirname, 'memory-agent.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0)
        return reject(new Error(`memory-agent ${args[0]} exited ${code}: ${err.trim() || out.trim()}`));
      const last = out.trim().split('\n').pop() ?? '{}';
      resolve(JSON.parse(last) as AgentRun);
    });
  });
}

const mb = (bytes: number) => bytes / MiB;

/**
 * A large DX file travels agent -> gateway -> inbox-store -> S3 -> applier, then the rows travel back
 * router -> S3 -> gateway -> a second agent of the same user. Peak RSS is sampled from /proc for the
 * services, and each agent (a child process) reports its own.
 */
export const memoryScenario: Scenario = {
  name: 'memory',
  title: 'memory',
  services: true,
  defaults: { warmup: 0, repetitions: 1 },
  async run(ctx) {
    const target = ctx.sizes.memoryMb * MiB;
    // The gateway refuses uploads over 256 MiB by default; the scenario's file may be larger.
    const uploadMax = String(Math.max(256 * MiB, 2 * target));
    const { stack, db } = await ctx.env.stack('memory', { UPLOAD_MAX_BYTES: uploadMax });
    const root = ctx.env.tempDir('memory');
    const pids = new Map<ServerService, number>();
    for (const service of SERVICES) {
      const pid = findProcess(`services/${service}/dist/main.js`, `QUEUE_PREFIX=${stack.queuePrefix}`);
      if (pid === null) throw new Error(`cannot find the ${service} process of this stack in /proc`);
      pids.set(service, pid);
    }
    const notes: string[] = [];
    const samples = await repeat(ctx, 'memory', async (rep) => {
      const tag = `mem${rep < 0 ? `w${-rep}` : rep}`;
      const user = `${tag}-user`;
      const downloader = await newAgent(stack, root, `${tag}-downloader`, user);
      const uploader = `${tag}-uploader`;
      const secret = await registerClient(stack, uploader, user);
      const file = join(root, `${tag}.dx`);
      ctx.progress.update(`memory ${tag}: writing a ${ctx.sizes.memoryMb} MiB DX file`);
      const dx = await writeBigUpload(file, uploader, user, target);

      ctx.progress.update(`memory ${tag}: uploading ${(dx.bytes / MiB).toFixed(0)} MiB`);
      const servicePids = [...pids.values()];
      const travel = async () => {
        const up = await runAgentProcess([
          'upload',
          stack.gatewayUrl,
          uploader,
          secret,
          '1',
          dx.sha256,
          file,
        ]);

        ctx.progress.update(`memory ${tag}: waiting for the applier and the router`);
        const applyStarted = performance.now();
        await waitFor(async () => (await appliedTxns(db, [uploader])) >= dx.count, {
          timeoutMs: 1_800_000,
          intervalMs: 200,
          description: `the applier to apply the ${dx.count} transactions of the big file`,
        });
        await waitFor(() => routerCaughtUp(db), {
          timeoutMs: 1_800_000,
          intervalMs: 200,
          description: 'the router to route the big file',
        });
        const serverMs = performance.now() - applyStarted;

        ctx.progress.update(`memory ${tag}: downloading`);
        const down = await runAgentProcess(['sync', downloader.dir]);
        return { up, down, serverMs };
      };
      // One sampler from the upload to the end of the download: the applier and the router do
      // their work between the two agents' runs.
      const sampler = new RssSampler(servicePids);
      let run: { up: AgentRun; down: AgentRun; serverMs: number };
      let peaks: Map<number, number>;
      try {
        run = await travel();
      } finally {
        peaks = sampler.stop();
      }
      const { up, down, serverMs } = run;

      const peak = (service: ServerService) => {
        const pid = pids.get(service) ?? 0;
        return peaks.get(pid) ?? 0;
      };
      notes.push(
        `${tag}: DX file ${(dx.bytes / MiB).toFixed(0)} MiB on disk (gzip; ${(dx.contentBytes / MiB).toFixed(0)} MiB of row text), ${dx.count} transactions; ` +
          `upload ${(up.ms / 1000).toFixed(1)} s, apply + route ${(serverMs / 1000).toFixed(1)} s, download + apply ${(down.ms / 1000).toFixed(1)} s`,
      );
      return {
        'gateway peak RSS': mb(peak('sync-gateway')),
        'inbox-store peak RSS': mb(peak('inbox-store')),
        'applier peak RSS': mb(peak('applier')),
        'router peak RSS': mb(peak('router')),
        'agent peak RSS, upload': mb(up.maxRssBytes),
        'agent peak RSS, download': mb(down.maxRssBytes),
      };
    });
    // Every service and both agents: the target holds only when each stays under the limit.
    const figures = Object.keys(samples[0] ?? {}).map((label) =>
      figure(
        { label, unit: 'MB', higherIsBetter: false },
        samples.map((s) => s[label as keyof typeof s]),
      ),
    );
    notes.push(
      'MB = MiB; services sampled from /proc/<pid>/status every 50 ms, agents report their own VmHWM',
    );
    return {
      sizes: { dxFileMiB: ctx.sizes.memoryMb },
      figures,
      target: { text: `each < ${LIMIT_MB} MB`, met: figures.every((f) => f.summary.max < LIMIT_MB) },
      notes,
    };
  },
};

if (require.main === module) void main([memoryScenario]);
