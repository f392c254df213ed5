import { Injectable, Logger } from '@nestjs/common';
import { ErrorCode } from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';
import { ObjectStore, partKey, partOffsetOf, partsPrefix } from '@outpost/storage';
import { pipeline, Readable } from 'node:stream';
import { InboxRepository } from './inbox.repository';
import { chainBytes, partChain, type StoredPart } from './part-chain';
import { Sha256Meter } from './sha256-meter';

/**
 * The parts of resumable uploads: a large file arrives as parts stored under
 * `parts/<client>/<fileSeq>/<sha256>/<offset>.part`, each accepted only where the held bytes end,
 * so a cut connection costs at most the part in flight. The parts are never a file of the inbox:
 * the gateway reads them back as one stream and puts it through the same staging, validation and
 * commit as a single upload, then removes them. A client keeps parts of one file at a time (a new
 * file's first part removes the rest); parts abandoned otherwise are unreferenced, and the
 * router's retention removes them after `RETENTION_PARTS_DAYS`.
 */
@Injectable()
export class InboxPartsService {
  private readonly logger = new Logger(InboxPartsService.name);

  constructor(
    private readonly repo: InboxRepository,
    private readonly store: ObjectStore,
  ) {}

  /** How many of the file's first bytes the server holds; all of them once the file itself is held. */
  async received(client: string, fileSeq: number, sha256: string): Promise<number> {
    const held = await this.heldSize(client, fileSeq, sha256);
    if (held !== null) return held;
    return chainBytes(await this.chain(client, fileSeq, sha256));
  }

  /** Stores one part at `offset`; resolves with the bytes held after it. */
  async putPart(
    client: string,
    fileSeq: number,
    sha256: string,
    offset: number,
    partBytes: number,
    body: Readable,
  ): Promise<number> {
    const held = await this.heldSize(client, fileSeq, sha256);
    if (held !== null) {
      body.resume();
      return held;
    }
    const received = chainBytes(await this.chain(client, fileSeq, sha256));
    if (offset !== received) {
      body.resume();
      throw new DomainError(
        ErrorCode.UploadOffsetMismatch,
        `The server holds the first ${received} bytes of file ${fileSeq} of "${client}"; a part at ${offset} does not follow them`,
        { receivedBytes: received, offset },
      );
    }
    if (offset === 0) await this.removeParts(client);
    const key = partKey(client, fileSeq, sha256, offset);
    const meter = new Sha256Meter();
    await this.store.putStream(
      this.store.inboxBucket,
      key,
      pipeline(body, meter, () => undefined),
    );
    const { size } = meter.result();
    // A body that ended early (a proxy that closed cleanly) must not pass for the whole part.
    if (size !== partBytes) {
      await this.store.remove(this.store.inboxBucket, key);
      throw new DomainError(
        ErrorCode.ValidationFailed,
        `A part of file ${fileSeq} arrived with ${size} bytes, not the ${partBytes} announced; send it again`,
        { receivedBytes: received },
      );
    }
    return received + size;
  }

  /** The held parts as one stream, and its length. */
  async content(client: string, fileSeq: number, sha256: string): Promise<{ size: number; body: Readable }> {
    const chain = await this.chain(client, fileSeq, sha256);
    const store = this.store;
    async function* concatenated() {
      for (const part of chain) yield* await store.getStream(store.inboxBucket, part.key);
    }
    return { size: chainBytes(chain), body: Readable.from(concatenated(), { objectMode: false }) };
  }

  /** Removes the parts of one file of the client (every sha256), or of all its files. */
  async removeParts(client: string, fileSeq?: number): Promise<void> {
    const parts = await this.store.listSizes(this.store.inboxBucket, partsPrefix(client, fileSeq));
    for (const { key } of parts) {
      await this.store.remove(this.store.inboxBucket, key).catch((err: Error) => {
        this.logger.warn(`could not remove upload part ${key}: ${err.message}`);
      });
    }
  }

  private async chain(client: string, fileSeq: number, sha256: string): Promise<StoredPart[]> {
    const listed = await this.store.listSizes(this.store.inboxBucket, partsPrefix(client, fileSeq, sha256));
    return partChain(
      listed.flatMap(({ key, size }) => {
        const offset = partOffsetOf(key);
        return offset === null ? [] : [{ key, offset, size }];
      }),
    );
  }

  /**
   * The size of the file already held under this seq with these bytes: a resume after the file
   * was committed (its answer lost) has nothing left to send. Other bytes under a held seq are refused.
   */
  private async heldSize(client: string, fileSeq: number, sha256: string): Promise<number | null> {
    const row = await this.repo.find(client, fileSeq);
    if (!row) return null;
    if (row.sha256 !== sha256) {
      throw new DomainError(
        ErrorCode.FileSeqTaken,
        `File seq ${fileSeq} of "${client}" already holds different content (sha256 ${row.sha256}); file seqs are never reused`,
        { fileSeq, sha256: row.sha256 },
      );
    }
    return row.size;
  }
}
