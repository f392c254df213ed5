import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { readDxFile, DxFormatError } from '@outpost/dx-format';
import type { DownloadListResponse, OutboundFileView } from '@outpost/contracts';
import { AgentError, AgentErrorCode } from '../errors';
import { DownloadApplier } from '../local-store/download-applier';
import { hashFile } from '../outbox/atomic-file';
import { SyncProgress } from '../progress/sync-progress';
import { CrashPoint, crashNow } from './crash-point';
import { GatewayClient } from './gateway-client';
import { TransferTotals } from './upload';

export interface DownloadOptions {
  inboxDir: string;
  clientName: string;
  /** How long to wait for the server to prepare an extract before giving up. */
  extractTimeoutMs: number;
  progress: SyncProgress;
  crashAt?: CrashPoint;
}

/** The longest pause between two looks at the list while the router prepares an extract. */
const EXTRACT_POLL_MAX_MS = 2000;

/** Waits, by polling the list, while the router prepares this client's (re)extract. */
async function pendingList(client: GatewayClient, opts: DownloadOptions): Promise<DownloadListResponse> {
  const started = Date.now();
  // Short at first (a small extract is ready in moments), never long: a laptop that checks every
  // 5 s waits 2.5 s on average after its extract is stored; one list query per 2 s is cheap.
  let wait = 250;
  let list = await client.listDownloads();
  if (list.extractPending) {
    opts.progress.note(
      `waiting for the server to prepare the extract of client ${opts.clientName} (the router builds it; ` +
        `up to ${Math.round(opts.extractTimeoutMs / 1000)} s)`,
    );
  }
  while (list.extractPending) {
    const waited = Date.now() - started;
    if (waited >= opts.extractTimeoutMs) {
      throw new AgentError(
        AgentErrorCode.ExtractTimeout,
        `the server is still preparing the extract of client ${opts.clientName} after ${Math.round(waited / 1000)} s ` +
          '(it waits for the router service); run "sync-agent sync" again later, or ask the administrator to check the router',
      );
    }
    await delay(Math.min(wait, opts.extractTimeoutMs - waited));
    wait = Math.min(wait * 2, EXTRACT_POLL_MAX_MS);
    list = await client.listDownloads();
  }
  return list;
}

/**
 * Fetches and applies every pending download file in order: resumable into `<epoch>-<seq>.part`,
 * checked against the listed sha256, applied in one local transaction. The next file is fetched
 * while the current one is applied, so the server's time to serve it overlaps the local work.
 * Acks are cumulative: one ack after the last file covers them all, and a file applied but not
 * acknowledged (an interrupted sync) is skipped and acknowledged by the next sync.
 */
export async function downloadInbox(
  client: GatewayClient,
  applier: DownloadApplier,
  opts: DownloadOptions,
): Promise<TransferTotals> {
  let list = await pendingList(client, opts);
  if (applier.position().epoch === 0 && list.epoch > 0 && list.files[0]?.kind !== 'extract') {
    // This store holds no extract while the client has one: a laptop set up again for an existing
    // client. The changes files of the current epoch assume its predecessor's data; start afresh.
    opts.progress.note(`asking the server for a fresh extract of client ${opts.clientName}`);
    await client.requestExtract();
    list = await pendingList(client, opts);
  }
  removeStaleFiles(opts.inboxDir, list.epoch);
  const totals = { files: 0, txns: 0, bytes: 0 };
  opts.progress.begin(
    'download',
    list.files.length,
    list.files.reduce((n, f) => n + f.size, 0),
  );
  const complete = (file: OutboundFileView) => path.join(opts.inboxDir, `${list.epoch}-${file.fileSeq}.dx`);
  const fetchMissing = (file: OutboundFileView): Promise<void> =>
    fs.existsSync(complete(file))
      ? Promise.resolve(opts.progress.bytes('download', file.size))
      : fetchFile(
          client,
          file,
          path.join(opts.inboxDir, `${list.epoch}-${file.fileSeq}.part`),
          complete(file),
          opts,
        );
  let ahead: { fileSeq: number; fetched: Promise<void> } | undefined;
  let doneUpTo: number | undefined;
  try {
    for (let i = 0; i < list.files.length; i++) {
      const file = list.files[i];
      if (applier.isApplied(list.epoch, file.fileSeq)) {
        fs.rmSync(complete(file), { force: true });
        opts.progress.bytes('download', file.size);
      } else {
        await (ahead?.fileSeq === file.fileSeq ? ahead.fetched : fetchMissing(file));
        ahead = undefined;
        const next = list.files[i + 1];
        if (next && !applier.isApplied(list.epoch, next.fileSeq)) {
          ahead = { fileSeq: next.fileSeq, fetched: fetchMissing(next) };
          // Awaited in turn; until then a failure must not count as an unhandled rejection.
          ahead.fetched.catch(() => undefined);
        }
        totals.txns += await applyFile(applier, complete(file), file.fileSeq, list.epoch);
        totals.files++;
        totals.bytes += file.size;
      }
      doneUpTo = file.fileSeq;
      opts.progress.fileDone('download');
    }
  } catch (err) {
    // No fetch keeps writing into the inbox once the download has failed.
    await ahead?.fetched.catch(() => undefined);
    // Files applied before the failure stay applied: tell the server if it is reachable (else the next sync does).
    if (doneUpTo !== undefined)
      await client.ack({ epoch: list.epoch, upToFileSeq: doneUpTo }).catch(() => undefined);
    throw err;
  }
  if (doneUpTo !== undefined) await client.ack({ epoch: list.epoch, upToFileSeq: doneUpTo });
  return totals;
}

/** Applies one complete file and removes it; a file that is not valid DX is removed too, so it is fetched again. */
async function applyFile(
  applier: DownloadApplier,
  file: string,
  fileSeq: number,
  epoch: number,
): Promise<number> {
  const reader = readDxFile(file);
  let txns: number;
  try {
    txns = (await applier.apply(await reader.header(), reader.batches(), epoch)).txns;
  } catch (err) {
    if (err instanceof DxFormatError) {
      fs.rmSync(file, { force: true });
      throw new AgentError(
        AgentErrorCode.DownloadInvalid,
        `download file ${fileSeq} (epoch ${epoch}) is not a valid DX file: ${err.message}; nothing of it was applied`,
        { code: err.code, txIndex: err.txIndex, byteOffset: err.byteOffset },
      );
    }
    throw err;
  }
  fs.rmSync(file, { force: true });
  return txns;
}

async function fetchFile(
  client: GatewayClient,
  file: OutboundFileView,
  part: string,
  complete: string,
  opts: DownloadOptions,
): Promise<void> {
  let received = 0;
  await client.download(file.fileSeq, part, (n) => {
    opts.progress.bytes('download', n);
    received += n;
    if (opts.crashAt === 'mid-download' && received >= file.size / 2) crashNow();
  });
  const { sha256, bytes } = await hashFile(part);
  if (sha256 !== file.sha256) {
    fs.rmSync(part, { force: true });
    throw new AgentError(
      AgentErrorCode.ChecksumMismatch,
      `download file ${file.fileSeq} arrived damaged (sha256 ${sha256}, ${bytes} bytes; the server listed ${file.sha256}, ` +
        `${file.size} bytes); it was discarded: run "sync-agent sync" again`,
    );
  }
  fs.renameSync(part, complete);
}

/** Part files of an older epoch can never be completed: the router will not serve them again. */
function removeStaleFiles(inboxDir: string, epoch: number): void {
  for (const name of fs.readdirSync(inboxDir)) {
    const m = /^(\d+)-\d+\.(part|dx)$/.exec(name);
    if (m && Number(m[1]) !== epoch) fs.rmSync(path.join(inboxDir, name), { force: true });
  }
}
