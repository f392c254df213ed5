import type { UploadResponse } from '@outpost/contracts';
import { AgentError, AgentErrorCode } from '../errors';

/** 8 MiB: a cut costs at most this much sent again, and a 256 MiB file is 32 requests. */
export const DEFAULT_UPLOAD_PART_BYTES = 8 * 1024 * 1024;

/** The gateway calls of a resumable upload (GatewayClient). */
export interface PartsGateway {
  uploadPartsReceived(fileSeq: number, sha256: string): Promise<number>;
  uploadPart(
    fileSeq: number,
    sha256: string,
    file: string,
    offset: number,
    length: number,
    onBytes: (n: number) => void,
  ): Promise<number>;
  completeUpload(fileSeq: number, sha256: string, size: number): Promise<UploadResponse>;
}

/**
 * Sends a file in parts of `partBytes`, starting where the server's bytes end: after a cut
 * connection or a restart the parts already on the server are not sent again. The server checks
 * the whole file (sha256, DX format, limits) only at completion, as for a single upload.
 */
export async function uploadInParts(
  gateway: PartsGateway,
  upload: { fileSeq: number; file: string; sha256: string; size: number },
  partBytes: number,
  onBytes: (n: number) => void,
): Promise<UploadResponse> {
  const { fileSeq, file, sha256, size } = upload;
  let offset = await gateway.uploadPartsReceived(fileSeq, sha256);
  if (offset > size) throw confused(fileSeq, offset, size);
  onBytes(offset);
  while (offset < size) {
    const length = Math.min(partBytes, size - offset);
    const received = await gateway.uploadPart(fileSeq, sha256, file, offset, length, onBytes);
    // The server answers with what it holds; anything but progress would loop for ever.
    if (received <= offset || received > size) throw confused(fileSeq, received, size);
    offset = received;
  }
  return gateway.completeUpload(fileSeq, sha256, size);
}

function confused(fileSeq: number, received: number, size: number): AgentError {
  return new AgentError(
    AgentErrorCode.ServerError,
    `the server says it holds ${received} bytes of upload file ${fileSeq}, which is ${size} bytes long; the file stays in the outbox`,
    { fileSeq, receivedBytes: received, size },
  );
}
