import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention: the router prunes old records and delivered files in small batches, each batch
 * finding its oldest rows by time. Without these indexes every batch would scan the whole table.
 */
export class RetentionIndexes1760000009500 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX sync_conflict_at_idx ON sync_conflict (at)`);
    await q.query(`CREATE INDEX sync_refusal_at_idx ON sync_refusal (at)`);
    await q.query(
      `CREATE INDEX sync_inbox_file_done_idx ON sync_inbox_file (coalesce(applied_at, received_at))
        WHERE status IN ('applied', 'refused', 'rejected')`,
    );
    await q.query(
      `CREATE INDEX sync_outbound_file_acked_idx ON sync_outbound_file (acked_at) WHERE acked_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX sync_outbound_file_obsolete_idx ON sync_outbound_file (obsolete_at) WHERE obsolete_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX sync_outbound_file_waiting_idx ON sync_outbound_file (client, epoch, created_at)
        WHERE acked_at IS NULL AND obsolete_at IS NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const idx of [
      'sync_outbound_file_waiting_idx',
      'sync_outbound_file_obsolete_idx',
      'sync_outbound_file_acked_idx',
      'sync_inbox_file_done_idx',
      'sync_refusal_at_idx',
      'sync_conflict_at_idx',
    ])
      await q.query(`DROP INDEX ${idx}`);
  }
}
