import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, type Repository } from 'typeorm';
import { InboxFileEntity } from './inbox-file.entity';
import type { TxnRange } from './dto/inbox-params';

export interface NewInboxFile extends TxnRange {
  client: string;
  fileSeq: number;
  objectKey: string;
  sha256: string;
  size: number;
}

@Injectable()
export class InboxRepository {
  private readonly repo: Repository<InboxFileEntity>;

  constructor(private readonly dataSource: DataSource) {
    this.repo = dataSource.getRepository(InboxFileEntity);
  }

  find(client: string, fileSeq: number): Promise<InboxFileEntity | null> {
    return this.repo.findOneBy({ client, fileSeq });
  }

  listForClient(client: string): Promise<InboxFileEntity[]> {
    return this.repo.find({ where: { client }, order: { fileSeq: 'ASC' } });
  }

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }

  /** The client's highest file seq held (0 for none), read inside `em`'s transaction. */
  async newestFileSeq(em: EntityManager, client: string): Promise<number> {
    const rows: Array<{ n: number }> = await em.query(
      'SELECT coalesce(max(file_seq), 0)::int AS n FROM sync_inbox_file WHERE client = $1',
      [client],
    );
    return rows[0]?.n ?? 0;
  }

  /**
   * Inserts the row as received inside `em`'s transaction; false when (client, fileSeq) exists.
   * A concurrent insert of the same key waits on the primary key until this transaction ends.
   */
  async insertReceived(em: EntityManager, f: NewInboxFile): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO sync_inbox_file (client, file_seq, object_key, sha256, size, txn_count, first_seq, last_seq, status)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'received')
       ON CONFLICT (client, file_seq) DO NOTHING
       RETURNING file_seq`,
      [f.client, f.fileSeq, f.objectKey, f.sha256, f.size, f.txnCount, f.firstSeq, f.lastSeq],
    );
    return rows.length === 1;
  }

  /**
   * Puts a quarantined row back in line with the administrator's rejection: the applier skips it
   * instead of applying it. The quarantine reason stays. False when it is no longer quarantined.
   */
  async markRejected(client: string, fileSeq: number, rejection: string): Promise<boolean> {
    const [, affected] = (await this.dataSource.query(
      `UPDATE sync_inbox_file SET status = 'received', rejection = $3, attempts = 0, last_error = NULL
       WHERE client = $1 AND file_seq = $2 AND status = 'quarantined'`,
      [client, fileSeq, rejection],
    )) as [unknown, number];
    return affected === 1;
  }

  /** Moves a quarantined row back to received; false when it is no longer quarantined. */
  async requeue(em: EntityManager, client: string, fileSeq: number, objectKey: string): Promise<boolean> {
    const [, affected] = (await em.query(
      `UPDATE sync_inbox_file SET status = 'received', reason = NULL, object_key = $3, applied_at = NULL,
              attempts = 0, last_error = NULL
       WHERE client = $1 AND file_seq = $2 AND status = 'quarantined'`,
      [client, fileSeq, objectKey],
    )) as [unknown, number];
    return affected === 1;
  }

  /**
   * Claims the one re-announcement a held file gets: only while it is still waiting for the
   * applier, and only once. Null when the file was applied, refused, or already re-announced.
   */
  async claimReannounce(client: string, fileSeq: number): Promise<InboxFileEntity | null> {
    const [rows] = (await this.dataSource.query(
      `UPDATE sync_inbox_file SET reannounced_at = now()
       WHERE client = $1 AND file_seq = $2 AND status = 'received' AND reannounced_at IS NULL
       RETURNING file_seq`,
      [client, fileSeq],
    )) as [unknown[], number];
    return rows.length === 1 ? this.find(client, fileSeq) : null;
  }

  /** Gives the claim back when the announcement could not be published, so the next duplicate tries. */
  async releaseReannounce(client: string, fileSeq: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE sync_inbox_file SET reannounced_at = NULL WHERE client = $1 AND file_seq = $2`,
      [client, fileSeq],
    );
  }
}
