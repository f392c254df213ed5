import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The router's tables. Outbound file seqs restart at 1 with every extract epoch, so an outbound
 * file is keyed by (client, epoch, file_seq); files of an older epoch that were never acked are
 * marked obsolete, not deleted, so an operator can still see what was superseded.
 */
export class SyncRouter1760000000700 implements MigrationInterface {
  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE sync_route_state (
        client        text PRIMARY KEY REFERENCES sync_client (name),
        epoch         integer NOT NULL CHECK (epoch >= 1),
        from_seq      bigint NOT NULL CHECK (from_seq >= 0),
        next_file_seq integer NOT NULL CHECK (next_file_seq >= 1),
        extracted_at  timestamptz NOT NULL,
        failures      integer NOT NULL DEFAULT 0,
        retry_at      timestamptz NULL,
        last_error    text NULL,
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE sync_route_holding (
        client     text NOT NULL,
        table_name text NOT NULL,
        row_id     uuid NOT NULL,
        PRIMARY KEY (client, table_name, row_id)
      )`);
    await q.query(`CREATE INDEX sync_route_holding_row_idx ON sync_route_holding (table_name, row_id)`);
    await q.query(`
      CREATE TABLE sync_outbound_file (
        client      text NOT NULL REFERENCES sync_client (name),
        epoch       integer NOT NULL CHECK (epoch >= 1),
        file_seq    integer NOT NULL CHECK (file_seq >= 1),
        kind        text NOT NULL CHECK (kind IN ('changes', 'extract')),
        object_key  text NOT NULL,
        sha256      text NOT NULL,
        size        bigint NOT NULL CHECK (size >= 0),
        txn_count   integer NOT NULL CHECK (txn_count >= 0),
        first_seq   bigint NOT NULL,
        last_seq    bigint NOT NULL,
        created_at  timestamptz NOT NULL DEFAULT now(),
        acked_at    timestamptz NULL,
        obsolete_at timestamptz NULL,
        PRIMARY KEY (client, epoch, file_seq)
      )`);
    await q.query(`
      CREATE TABLE sync_router_watermark (
        id         boolean PRIMARY KEY DEFAULT true CHECK (id),
        last_seq   bigint NOT NULL CHECK (last_seq >= 0),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`INSERT INTO sync_router_watermark (id, last_seq) VALUES (true, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE sync_router_watermark`);
    await q.query(`DROP TABLE sync_outbound_file`);
    await q.query(`DROP TABLE sync_route_holding`);
    await q.query(`DROP TABLE sync_route_state`);
  }
}
