import * as fs from 'node:fs';
import * as path from 'node:path';
import { DX_FORMAT, DX_VERSION, DxHeader, DxUploadTransaction, writeDxFile } from '@outpost/dx-format';
import { AgentError, AgentErrorCode } from '../errors';
import { LocalStore, StateKey } from '../local-store/local-store';
import { LogEntry, LogRepository, OutboxFileRow } from '../local-store/log.repository';
import { UploadTransactionBuilder } from './upload-transactions';
import { hashFile, writeFileAtomically } from './atomic-file';

/**
 * Per-file work on the server (object, queue message, position commit) is paid once per file, so a
 * busy laptop's backlog travels in few files; a failed upload still resends at most one file.
 */
export const DEFAULT_MAX_PER_FILE = 5000;

/**
 * Captured JSON in one outbox file, so that a backlog of large rows travels in several files, each
 * well under the gateway's UPLOAD_MAX_BYTES (256 MiB compressed by default); a single change larger
 * than this (at most UPLOAD_MAX_TXN_BYTES) goes in a file of its own.
 */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Sent files are kept this long after the server acknowledged them, to inspect what went out. */
export const DEFAULT_KEEP_DAYS = 7;

/** Seams of an extract: the crash windows for tests, and progress for the CLI. */
export interface ExtractHooks {
  /** After the file seqs are assigned and committed, before any file is written. */
  afterAssign?(fileSeqs: number[]): void;
  /** After a file is renamed into place, before it is recorded as written. */
  afterWrite?(fileSeq: number): void;
  /** After a file is written and recorded (progress). */
  written?(file: OutboxFileInfo): void;
}

export interface OutboxFileInfo {
  fileSeq: number;
  firstSeq: number;
  lastSeq: number;
  count: number;
  bytes: number;
  sha256: string;
}

export interface ExtractResult {
  files: OutboxFileInfo[];
  txns: number;
  /** Files rewritten because an earlier run stopped between assigning and writing them. */
  recovered: number;
}

export const outboxFileName = (fileSeq: number): string => `${String(fileSeq).padStart(12, '0')}.dx`;

/**
 * The laptop's outbox: log entries become upload DX files. File seqs are assigned and entries marked in
 * one SQLite transaction, then files are written atomically; a file that was assigned but not written,
 * or lost before the server acknowledged it, is regenerated from the same entries, byte for byte.
 */
export class Outbox {
  private readonly log: LogRepository;

  constructor(
    private readonly store: LocalStore,
    private readonly dir: { outbox: string; sent: string },
    private readonly client: string,
    private readonly hooks: ExtractHooks = {},
  ) {
    this.log = new LogRepository(store);
    fs.mkdirSync(dir.sent, { recursive: true });
  }

  filePath(fileSeq: number): string {
    return path.join(this.dir.outbox, outboxFileName(fileSeq));
  }

  /** Files written and not yet acknowledged by the server, in order. */
  waitingFiles(): OutboxFileRow[] {
    return this.log.filesWithStatus('written');
  }

  async extract(
    maxPerFile = DEFAULT_MAX_PER_FILE,
    maxFileBytes = DEFAULT_MAX_FILE_BYTES,
  ): Promise<ExtractResult> {
    if (!Number.isInteger(maxPerFile) || maxPerFile < 1) {
      throw new AgentError(
        AgentErrorCode.ConfigInvalid,
        `--max-per-file must be a positive integer, not ${maxPerFile}`,
      );
    }
    const recovered = await this.recover();
    const assigned = this.assign(maxPerFile, maxFileBytes);
    this.hooks.afterAssign?.(assigned.map((f) => f.file_seq));
    const files: OutboxFileInfo[] = [];
    for (const row of assigned) files.push(await this.write(row));
    return { files, txns: files.reduce((n, f) => n + f.count, 0), recovered };
  }

  /** Finishes what a stopped run left: unwritten or lost files are regenerated, acknowledged ones moved aside. */
  async recover(): Promise<number> {
    let recovered = 0;
    for (const row of this.log.filesWithStatus('sent')) {
      const file = this.filePath(row.file_seq);
      if (fs.existsSync(file)) fs.renameSync(file, path.join(this.dir.sent, outboxFileName(row.file_seq)));
    }
    for (const row of this.log.filesWithStatus('assigned')) {
      await this.write(row);
      recovered++;
    }
    for (const row of this.log.filesWithStatus('written')) {
      if (fs.existsSync(this.filePath(row.file_seq))) continue;
      // A confirm covered it: the server has applied it, so it must have received it.
      if (this.log.unconfirmedCountOfFile(row.file_seq) === 0) {
        this.log.markSent(row.file_seq, new Date().toISOString());
        continue;
      }
      const info = await this.write(row);
      if (info.sha256 !== row.sha256) {
        throw new AgentError(
          AgentErrorCode.ValueInvalid,
          `outbox file ${outboxFileName(row.file_seq)} was lost and its regenerated copy differs from the original ` +
            `(sha256 ${info.sha256}, was ${row.sha256}); the local log was changed by hand`,
        );
      }
      recovered++;
    }
    return recovered;
  }

  /** One SQLite transaction: every pending entry gets a file seq; the entries are validated before commit. */
  private assign(maxPerFile: number, maxFileBytes: number): OutboxFileRow[] {
    const db = this.store.db;
    return db
      .transaction(() => {
        const user = this.store.getState(StateKey.userLogin) ?? '';
        const builder = new UploadTransactionBuilder(this.store.schema, user);
        const createdAt = new Date().toISOString();
        const seqs: number[] = [];
        for (
          let range = this.log.pendingSeqRange(maxPerFile, maxFileBytes);
          range;
          range = this.log.pendingSeqRange(maxPerFile, maxFileBytes)
        ) {
          const fileSeq = this.log.nextFileSeq();
          if (range.last - range.first + 1 !== range.count) {
            throw new AgentError(
              AgentErrorCode.ValueInvalid,
              `the local log has a gap between seq ${range.first} and ${range.last}; entries were removed by hand`,
            );
          }
          this.log.markExtracted(fileSeq, range.first, range.last);
          for (const entry of this.log.entriesOfFile(fileSeq)) builder.build(entry);
          this.log.insertFile({
            file_seq: fileSeq,
            first_seq: range.first,
            last_seq: range.last,
            count: range.count,
            created_at: createdAt,
            user_login: user,
            schema_version: this.store.schema.version,
          });
          seqs.push(fileSeq);
        }
        return seqs.length === 0
          ? []
          : this.log.filesWithStatus('assigned').filter((f) => seqs.includes(f.file_seq));
      })
      .immediate();
  }

  private async write(row: OutboxFileRow): Promise<OutboxFileInfo> {
    const remaining = this.log.countOfFile(row.file_seq);
    if (remaining !== row.count) {
      throw new AgentError(
        AgentErrorCode.ValueInvalid,
        `outbox file ${row.file_seq} needs ${row.count} log entries but ${remaining} remain; it cannot be regenerated`,
      );
    }
    const builder = new UploadTransactionBuilder(this.store.schema, row.user_login);
    const header: DxHeader = {
      format: DX_FORMAT,
      version: DX_VERSION,
      client: this.client,
      fileSeq: row.file_seq,
      direction: 'upload',
      firstSeq: row.first_seq,
      lastSeq: row.last_seq,
      count: row.count,
      createdAt: row.created_at,
    };
    if (row.schema_version !== null) header.schemaVersion = row.schema_version;
    const file = this.filePath(row.file_seq);
    await writeFileAtomically(file, (tmp) =>
      writeDxFile(tmp, header, built(this.log.entriesOfFile(row.file_seq), builder)),
    );
    this.hooks.afterWrite?.(row.file_seq);
    const { sha256, bytes } = await hashFile(file);
    this.log.markWritten(row.file_seq, sha256, bytes);
    const info = {
      fileSeq: row.file_seq,
      firstSeq: row.first_seq,
      lastSeq: row.last_seq,
      count: row.count,
      bytes,
      sha256,
    };
    this.hooks.written?.(info);
    return info;
  }

  /**
   * Removes the copies of files the server acknowledged before `before`. Only `sent/` is
   * touched and only for files recorded as sent: a file waiting in the outbox is the only copy
   * of changes the server does not hold yet. The rows stay (they are small, and they tell a later
   * session that this store has talked to the server).
   */
  pruneSent(before: Date): number {
    let removed = 0;
    for (const row of this.log.sentBefore(before.toISOString())) {
      const file = path.join(this.dir.sent, outboxFileName(row.file_seq));
      if (!fs.existsSync(file)) continue;
      fs.rmSync(file, { force: true });
      removed++;
    }
    return removed;
  }

  /** The server holds the file: record it, then move it out of the way (recover() finishes a stopped move). */
  markSent(fileSeq: number): void {
    this.log.markSent(fileSeq, new Date().toISOString());
    const file = this.filePath(fileSeq);
    if (fs.existsSync(file)) fs.renameSync(file, path.join(this.dir.sent, outboxFileName(fileSeq)));
  }
}

/** The transactions of a file as the writer takes them: a page of entries in memory, not the file. */
function* built(
  entries: Iterable<LogEntry>,
  builder: UploadTransactionBuilder,
): Generator<DxUploadTransaction> {
  for (const entry of entries) yield builder.build(entry);
}
