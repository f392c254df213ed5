import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';
import type { Readable } from 'node:stream';

export interface BodyLimits {
  maxBytes: number;
  idleTimeoutMs: number;
}

/**
 * Watches an upload body as it arrives and calls `cut` once with the reason to stop reading it:
 * more bytes than allowed, or no byte for `idleTimeoutMs` while the gateway was ready to read
 * (a body paused by backpressure from the inbox-store is the server's delay, not the client's).
 * Returns the function that stops watching.
 */
export function guardBody(
  body: Readable,
  limits: BodyLimits,
  fileSeq: number,
  correlationId: string,
  cut: (reason: DomainError) => void,
): () => void {
  let bytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const stop = () => {
    clearTimeout(timer);
    body.off('data', onData);
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(onIdle, limits.idleTimeoutMs);
  };
  const onIdle = () => {
    if (body.readableFlowing === false || body.readableLength > 0) return arm();
    stop();
    cut(
      new DomainError(
        ErrorCode.UploadStalled,
        `File ${fileSeq}: no data arrived for ${limits.idleTimeoutMs} ms, so the upload was cut and nothing was kept; send the file again`,
        { idleTimeoutMs: limits.idleTimeoutMs, receivedBytes: bytes },
        correlationId,
      ),
    );
  };
  const onData = (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limits.maxBytes) {
      stop();
      cut(tooLarge(fileSeq, limits.maxBytes, correlationId));
      return;
    }
    arm();
  };
  body.on('data', onData);
  body.once('end', stop);
  body.once('close', stop);
  arm();
  return stop;
}

export function tooLarge(fileSeq: number, maxBytes: number, correlationId: string): DomainError {
  return new DomainError(
    ErrorCode.UploadTooLarge,
    `File ${fileSeq} is larger than the server accepts (${maxBytes} bytes, UPLOAD_MAX_BYTES); write smaller files or ask the administrator to raise the limit`,
    { maxBytes },
    correlationId,
  );
}
