import { AgentError } from '../errors';
import { uploadInParts, type PartsGateway } from './upload-parts';

/** A gateway that holds the first `held` bytes and records every part sent. */
function fakeGateway(held: number, answer?: (offset: number, length: number) => number) {
  const sent: Array<[number, number]> = [];
  const gateway: PartsGateway = {
    uploadPartsReceived: () => Promise.resolve(held),
    uploadPart: (_seq, _sha, _file, offset, length, onBytes) => {
      sent.push([offset, length]);
      onBytes(length);
      return Promise.resolve(answer ? answer(offset, length) : offset + length);
    },
    completeUpload: (fileSeq) => Promise.resolve({ status: 'stored', fileSeq }),
  };
  return { gateway, sent };
}

const upload = { fileSeq: 3, file: '/nowhere', sha256: 'ab'.repeat(32), size: 25 };

describe('uploadInParts', () => {
  it('sends the file in parts and completes it', async () => {
    const { gateway, sent } = fakeGateway(0);
    let progress = 0;
    const result = await uploadInParts(gateway, upload, 10, (n) => (progress += n));
    expect(sent).toEqual([
      [0, 10],
      [10, 10],
      [20, 5],
    ]);
    expect(result).toEqual({ status: 'stored', fileSeq: 3 });
    expect(progress).toBe(25);
  });

  it('starts where the server’s bytes end and counts them as done', async () => {
    const { gateway, sent } = fakeGateway(20);
    let progress = 0;
    await uploadInParts(gateway, upload, 10, (n) => (progress += n));
    expect(sent).toEqual([[20, 5]]);
    expect(progress).toBe(25);
  });

  it('sends nothing but the completion when the server holds every byte', async () => {
    const { gateway, sent } = fakeGateway(25);
    await expect(uploadInParts(gateway, upload, 10, () => undefined)).resolves.toMatchObject({
      status: 'stored',
    });
    expect(sent).toEqual([]);
  });

  it('stops instead of looping when the server does not move forward', async () => {
    const { gateway, sent } = fakeGateway(0, (offset) => offset);
    await expect(uploadInParts(gateway, upload, 10, () => undefined)).rejects.toBeInstanceOf(AgentError);
    expect(sent).toHaveLength(1);
  });
});
