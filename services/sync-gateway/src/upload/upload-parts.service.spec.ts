import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';
import { PassThrough, Readable } from 'node:stream';
import type { GatewayConfig } from '../config';
import type { InboxStoreClient } from '../infra/inbox-store.client';
import { UploadPartsService } from './upload-parts.service';
import type { UploadService } from './upload.service';

const SHA = 'ab'.repeat(32);

/** The service over an inbox-store holding `held` bytes of parts, and a single-upload path that does `upload`. */
function setup(held: number, upload: () => Promise<unknown>) {
  const inbox = {
    partsReceived: jest.fn(() => Promise.resolve(held)),
    openParts: jest.fn(() => Promise.resolve(Readable.from([Buffer.alloc(held)]))),
    removeParts: jest.fn(() => Promise.resolve()),
    putPart: jest.fn((...args: unknown[]) => {
      (args[5] as Readable).resume();
      return Promise.resolve(held + (args[4] as number));
    }),
  };
  const uploads = { upload: jest.fn(upload) };
  const config = { uploadMaxBytes: 1000, uploadIdleTimeoutMs: 5000 } as GatewayConfig;
  const service = new UploadPartsService(
    uploads as unknown as UploadService,
    inbox as unknown as InboxStoreClient,
    config,
  );
  return { service, inbox, uploads };
}

const refusal = (code: ErrorCode) => () => Promise.reject(new DomainError(code, 'no'));

describe('UploadPartsService', () => {
  it('refuses to complete while bytes are missing, without reading the parts', async () => {
    const { service, inbox, uploads } = setup(300, () => Promise.resolve({ status: 'stored', fileSeq: 1 }));
    await expect(service.complete('c1', 1, SHA, 400, 'cid')).rejects.toMatchObject({
      code: ErrorCode.UploadOffsetMismatch,
      details: { receivedBytes: 300 },
    });
    expect(inbox.openParts).not.toHaveBeenCalled();
    expect(uploads.upload).not.toHaveBeenCalled();
  });

  it('completes through the single-upload path, then removes the parts', async () => {
    const { service, inbox, uploads } = setup(400, () => Promise.resolve({ status: 'stored', fileSeq: 1 }));
    await expect(service.complete('c1', 1, SHA, 400, 'cid')).resolves.toEqual({
      status: 'stored',
      fileSeq: 1,
    });
    expect(uploads.upload).toHaveBeenCalledWith('c1', 1, SHA, expect.any(Readable), 400, 'cid');
    expect(inbox.removeParts).toHaveBeenCalledWith('c1', 1, 'cid');
  });

  it.each([ErrorCode.ChecksumMismatch, ErrorCode.DxInvalid, ErrorCode.DxWrongClient, ErrorCode.FileSeqGap])(
    'drops the parts when the file is refused with %s',
    async (code) => {
      const { service, inbox } = setup(400, refusal(code));
      await expect(service.complete('c1', 1, SHA, 400, 'cid')).rejects.toMatchObject({ code });
      expect(inbox.removeParts).toHaveBeenCalledWith('c1', 1, 'cid');
    },
  );

  it.each([ErrorCode.DependencyUnavailable, ErrorCode.Internal, ErrorCode.UploadStalled])(
    'keeps the parts for the next attempt when completing fails with %s',
    async (code) => {
      const { service, inbox } = setup(400, refusal(code));
      await expect(service.complete('c1', 1, SHA, 400, 'cid')).rejects.toMatchObject({ code });
      expect(inbox.removeParts).not.toHaveBeenCalled();
    },
  );

  it('refuses a part without a length, or one that would pass UPLOAD_MAX_BYTES, before reading it', async () => {
    const { service, inbox } = setup(0, () => Promise.resolve(undefined));
    await expect(service.putPart('c1', 1, SHA, 0, new PassThrough(), undefined, 'cid')).rejects.toMatchObject(
      {
        code: ErrorCode.ValidationFailed,
      },
    );
    await expect(service.putPart('c1', 1, SHA, 900, new PassThrough(), 200, 'cid')).rejects.toMatchObject({
      code: ErrorCode.UploadTooLarge,
    });
    expect(inbox.putPart).not.toHaveBeenCalled();
  });

  it('passes a part on and answers with the bytes held after it', async () => {
    const { service, inbox } = setup(100, () => Promise.resolve(undefined));
    const body = Readable.from([Buffer.alloc(50)]);
    await expect(service.putPart('c1', 1, SHA, 100, body, 50, 'cid')).resolves.toEqual({
      fileSeq: 1,
      sha256: SHA,
      receivedBytes: 150,
    });
    expect(inbox.putPart).toHaveBeenCalledWith('c1', 1, SHA, 100, 50, expect.any(PassThrough), 'cid');
  });
});
