import * as fs from 'node:fs';
import { AgentError, AgentErrorCode } from '../errors';
import { Outbox, outboxFileName } from '../outbox/outbox';
import { SyncProgress } from '../progress/sync-progress';
import { CrashPoint, crashNow } from './crash-point';
import { GatewayClient } from './gateway-client';
import { DEFAULT_UPLOAD_PART_BYTES, uploadInParts } from './upload-parts';

export interface TransferTotals {
  files: number;
  txns: number;
  bytes: number;
}

/**
 * Sends every waiting outbox file in seq order. A file the server already holds with the same sha256
 * (an earlier sync stopped after sending it) is recorded without sending it again. A file larger
 * than `partBytes` goes in parts, so a sync cut half way continues from the server's last part.
 */
export async function uploadOutbox(
  client: GatewayClient,
  outbox: Outbox,
  clientName: string,
  progress: SyncProgress,
  opts: { crashAt?: CrashPoint; partBytes?: number } = {},
): Promise<TransferTotals & { alreadyOnServer: number }> {
  const files = outbox.waitingFiles();
  const totals = { files: 0, txns: 0, bytes: 0, alreadyOnServer: 0 };
  progress.begin(
    'upload',
    files.length,
    files.reduce((n, f) => n + (f.bytes ?? 0), 0),
  );
  for (const file of files) {
    const sha256 = file.sha256 ?? '';
    const held = await client.uploadedSha256(file.file_seq);
    if (held === sha256) {
      outbox.markSent(file.file_seq);
      totals.alreadyOnServer++;
      progress.bytes('upload', file.bytes ?? 0);
      progress.fileDone('upload');
      continue;
    }
    if (held !== null) {
      throw new AgentError(
        AgentErrorCode.UploadRefused,
        `the server already holds upload file ${file.file_seq} of client ${clientName} with different content ` +
          `(server sha256 ${held}, local ${sha256}): this local store is not the one the server has been receiving from. ` +
          'Ask the administrator to re-extract the client and initialise a new local folder; local file kept in the outbox.',
        { fileSeq: file.file_seq },
      );
    }
    const path = outbox.filePath(file.file_seq);
    const size = fs.statSync(path).size;
    const onBytes = (n: number) => progress.bytes('upload', n);
    const partBytes = opts.partBytes ?? DEFAULT_UPLOAD_PART_BYTES;
    if (size > partBytes)
      await uploadInParts(client, { fileSeq: file.file_seq, file: path, sha256, size }, partBytes, onBytes);
    else await client.upload(file.file_seq, path, sha256, onBytes);
    if (opts.crashAt === 'after-upload') crashNow();
    outbox.markSent(file.file_seq);
    totals.files++;
    totals.txns += file.count;
    totals.bytes += file.bytes ?? 0;
    progress.fileDone('upload');
  }
  return totals;
}

export { outboxFileName };
