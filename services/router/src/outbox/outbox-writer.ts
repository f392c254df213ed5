import { DX_FORMAT, DX_VERSION, DxWriter, type DxFileKind, type DxTransaction } from '@outpost/dx-format';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Schema } from '@outpost/schema';
import { outboxKey, ObjectStore } from '@outpost/storage';
import { SYNC_SCHEMA } from '../router.tokens';

export interface OutboxFileSpec {
  client: string;
  epoch: number;
  fileSeq: number;
  kind: DxFileKind;
  firstSeq: number;
  lastSeq: number;
  count: number;
}

export interface WrittenFile {
  objectKey: string;
  sha256: string;
  size: number;
}

/**
 * Writes one download DX file into the client's outbox. The object is written before its
 * sync_outbound_file row exists, so an object without a row is invisible to the client and is
 * simply overwritten when the same file seq is written again.
 */
@Injectable()
export class OutboxWriter {
  /** Version of the synced schema the rows are written under; the header carries it. */
  private readonly schemaVersion: number | undefined;

  constructor(
    private readonly store: ObjectStore,
    @Optional() @Inject(SYNC_SCHEMA) schema?: Schema,
  ) {
    this.schemaVersion = schema?.version;
  }

  async write(
    spec: OutboxFileSpec,
    txs: Iterable<DxTransaction> | AsyncIterable<DxTransaction>,
  ): Promise<WrittenFile> {
    return this.writeWith(spec, async (writer) => {
      for await (const tx of txs) await writer.write(tx);
    });
  }

  /** Like `write`, for producers that drive the writer themselves (`writeEncoded` lines). */
  async writeWith(spec: OutboxFileSpec, fill: (writer: DxWriter) => Promise<void>): Promise<WrittenFile> {
    const objectKey = outboxKey(spec.client, spec.epoch, spec.fileSeq);
    const writer = new DxWriter({
      format: DX_FORMAT,
      version: DX_VERSION,
      client: spec.client,
      fileSeq: spec.fileSeq,
      direction: 'download',
      firstSeq: spec.firstSeq,
      lastSeq: spec.lastSeq,
      count: spec.count,
      createdAt: new Date().toISOString(),
      kind: spec.kind,
      epoch: spec.epoch,
      ...(this.schemaVersion === undefined ? {} : { schemaVersion: this.schemaVersion }),
    });
    const upload = this.store.putStream(this.store.outboxBucket, objectKey, writer.stream);
    // A failed upload stops consuming the stream; aborting the writer releases a write() waiting on it.
    upload.catch(() => writer.abort());
    let written: { sha256: string; bytes: number };
    try {
      await fill(writer);
      written = await writer.end();
    } catch (err) {
      writer.abort();
      throw err;
    }
    await upload;
    return { objectKey, sha256: written.sha256, size: written.bytes };
  }
}
