import type { Readable } from 'node:stream';
import type { PoolClient } from 'pg';
import { DxFormatError, type DxHeader } from '@outpost/dx-format';
import { droppedColumns, type Schema, type SchemaHistory } from '@outpost/schema';
import { ApplyRejection, ApplyRejectionCode } from './apply-rejection';
import { describe } from './file-header';
import { FileRun } from './file-run';
import { TableSql } from './table-sql';
import type { WriteGuard } from './write-guard';

export interface InboxFile {
  client: string;
  fileSeq: number;
  objectKey: string;
  /** The registered user of the client: every change is authorized for this user. */
  user: string;
  /** When the server received the file: the latest change time it trusts. */
  receivedAt: Date;
}

export interface ApplyPosition {
  fileSeq: number;
  txnSeq: number;
}

export interface FileApplyResult {
  header: DxHeader;
  txnCount: number;
  conflicts: number;
  echoes: number;
  refused: number;
}

export interface FileApplierOptions {
  /** Transactions resolved and written together. */
  chunkTxns: number;
  /** The schema's versions: columns older versions had and a later one dropped are ignored in older files. */
  history?: SchemaHistory;
  /**
   * Uncompressed bytes of transactions resolved and written together: a chunk ends at `chunkTxns`
   * or at this many bytes, whichever comes first, so a file of large rows is held a few megabytes
   * at a time and not `chunkTxns` rows of up to `maxLineBytes` each.
   */
  chunkBytes: number;
  /** Longest transaction line accepted; a longer one quarantines the file (DX_INVALID, LINE_TOO_LONG). */
  maxLineBytes: number;
  /** Called after each chunk is written, before the next is read (fault injection in tests). */
  afterChunk?: (chunksWritten: number) => Promise<void> | void;
}

/**
 * Applies one upload file inside the caller's open transaction, in chunks: load the chunk's rows
 * (FOR UPDATE), resolve its transactions in memory, write each table with one delete and one
 * upsert statement. The transaction tells the change capture where its rows came from with
 * transactional messages (`pg_logical_emit_message`), which the replication stream delivers in
 * place: the origin (client, user) before the rows, then the confirm, then the echoes. The client's
 * apply position and the file's inbox status move in the confirm's statement. No lock is shared
 * with other files: files of different clients apply side by side.
 * Throws ApplyRejection for a file that can never apply; anything else is transient.
 */
export class FileApplier {
  private readonly tables: Map<string, TableSql>;
  private readonly dropped: Map<string, Set<string>>;

  constructor(
    private readonly schema: Schema,
    private readonly guard: WriteGuard,
    private readonly options: FileApplierOptions,
  ) {
    this.tables = new Map(schema.tables.map((t) => [t.name, new TableSql(t)]));
    const versions = options.history?.stepsBetween(0, schema.version) ?? [];
    this.dropped = new Map(schema.tables.map((t) => [t.name, droppedColumns(versions, t.name)]));
  }

  /** Throws FileRefusal when the whole file must be refused, ApplyRejection when it can never apply. */
  async apply(
    db: PoolClient,
    file: InboxFile,
    position: ApplyPosition,
    input: Readable,
  ): Promise<FileApplyResult> {
    const run = new FileRun(this.schema, this.tables, this.guard, this.dropped, this.options, db, file);
    try {
      return await run.apply(input, position);
    } catch (err) {
      if (err instanceof DxFormatError) {
        throw new ApplyRejection(
          ApplyRejectionCode.DxInvalid,
          `file ${describe(file)} is not a valid DX file: ${err.message}`,
        );
      }
      throw err;
    }
  }
}
