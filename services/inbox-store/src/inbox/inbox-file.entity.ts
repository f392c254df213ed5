import type { InboxFileStatus, InboxFileView } from '@outpost/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

const bigintAsNumber = { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) };

@Entity('sync_inbox_file')
export class InboxFileEntity {
  @PrimaryColumn('text')
  client!: string;

  @PrimaryColumn('integer', { name: 'file_seq' })
  fileSeq!: number;

  @Column('text', { name: 'object_key' })
  objectKey!: string;

  @Column('char', { length: 64 })
  sha256!: string;

  @Column('bigint', { transformer: bigintAsNumber })
  size!: number;

  @Column('integer', { name: 'txn_count' })
  txnCount!: number;

  @Column('integer', { name: 'first_seq' })
  firstSeq!: number;

  @Column('integer', { name: 'last_seq' })
  lastSeq!: number;

  @Column('text')
  status!: InboxFileStatus;

  @Column('text', { nullable: true })
  reason!: string | null;

  @Column('text', { nullable: true })
  rejection!: string | null;

  @Column('timestamptz', { name: 'received_at' })
  receivedAt!: Date;

  @Column('timestamptz', { name: 'applied_at', nullable: true })
  appliedAt!: Date | null;
}

/** Files the client has moved past: applied, or refused or rejected as a whole. */
const PASSED = new Set<InboxFileStatus>(['applied', 'refused', 'rejected']);

/** Views in file order; a received file is waiting while any earlier file is not passed. */
export function toInboxViews(rows: InboxFileEntity[]): InboxFileView[] {
  let blocked = false;
  return [...rows]
    .sort((a, b) => a.fileSeq - b.fileSeq)
    .map((row) => {
      const view: InboxFileView = {
        client: row.client,
        fileSeq: row.fileSeq,
        status: row.status,
        waiting: row.status === 'received' && blocked,
        size: row.size,
        sha256: row.sha256,
        txnCount: row.txnCount,
        reason: row.reason,
        rejection: row.rejection,
        receivedAt: row.receivedAt.toISOString(),
        appliedAt: row.appliedAt?.toISOString() ?? null,
      };
      if (!PASSED.has(row.status)) blocked = true;
      return view;
    });
}
