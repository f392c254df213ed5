import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { readDxFile, DxFormatError } from '@outpost/dx-format';
import type { DownloadListResponse } from '@outpost/contracts';
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

/** Waits, by polling the list, while the router prepares this client's (re)extract. */
async function pendingList(client: GatewayClient, opts: DownloadOptions): Promise<DownloadListResponse> {
  const started = Date.now();
  let wait = 500;
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
    wait = Math.min(wait * 2, 5000);
    list = await client.listDownloads();
  }
  return list;
}

/**
 * Fetches and applies every pending download file in order: resumable into `<epoch>-<seq>.part`,
 * checked against the listed sha256, applied in one local transaction, then acknowledged.
 */
export async function downloadInbox(
  client: GatewayClient,
  applier: DownloadApplier,
  opts: DownloadOptions,
): Promise<TransferTotals> {
  const list = await pendingList(client, opts);
  removeStaleFiles(opts.inboxDir, list.epoch);
  const totals = { files: 0, txns: 0, bytes: 0 };
  opts.progress.begin(
    'download',
    list.files.length,
    list.files.reduce((n, f) => n + f.size, 0),
  );
  for (const file of list.files) {
    const name = `${list.epoch}-${file.fileSeq}`;
    const complete = path.join(opts.inboxDir, `${name}.dx`);
    if (applier.isApplied(list.epoch, file.fileSeq)) {
      fs.rmSync(complete, { force: true });
      opts.progress.bytes('download', file.size);
    } else {
      if (!fs.existsSync(complete))
        await fetchFile(client, file, path.join(opts.inboxDir, `${name}.part`), complete, opts);
      else opts.progress.bytes('download', file.size);
      const reader = readDxFile(complete);
      try {
        const result = await applier.apply(await reader.header(), reader, list.epoch);
        totals.txns += result.txns;
      } catch (err) {
        if (err instanceof DxFormatError) {
          fs.rmSync(complete, { force: true });
          throw new AgentError(
            AgentErrorCode.DownloadInvalid,
            `download file ${file.fileSeq} (epoch ${list.epoch}) is not a valid DX file: ${err.message}; nothing of it was applied`,
            { code: err.code, txIndex: err.txIndex, byteOffset: err.byteOffset },
          );
        }
        throw err;
      }
      fs.rmSync(complete, { force: true });
      totals.files++;
      totals.bytes += file.size;
    }
    await client.ack({ epoch: list.epoch, upToFileSeq: file.fileSeq });
    opts.progress.fileDone('download');
  }
  return totals;
}

async function fetchFile(
  client: GatewayClient,
  file: { fileSeq: number; sha256: string; size: number },
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
