import type { ClientStatus, ClientView, SyncResult } from '@outpost/contracts';
import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity('sync_client')
export class SyncClientEntity {
  @PrimaryColumn('text')
  name!: string;

  @Column('text', { name: 'user_login' })
  userLogin!: string;

  @Column('text')
  status!: ClientStatus;

  @Column('text', { name: 'secret_hash' })
  secretHash!: string;

  @Column('timestamptz', { name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'last_sync_at', nullable: true })
  lastSyncAt!: Date | null;

  @Column('jsonb', { name: 'last_sync_result', nullable: true })
  lastSyncResult!: SyncResult | null;

  @Column('timestamptz', { name: 'extract_requested_at', nullable: true })
  extractRequestedAt!: Date | null;

  /** Bumped by deactivate and rotate-secret: sessions issued under an older epoch are revoked. */
  @Column('integer', { name: 'credential_epoch', default: 1 })
  credentialEpoch!: number;
}

export function toClientView(row: SyncClientEntity): ClientView {
  return {
    name: row.name,
    userLogin: row.userLogin,
    status: row.status,
    createdAt: row.createdAt.toISOString(),
    lastSyncAt: row.lastSyncAt?.toISOString() ?? null,
    lastSyncResult: row.lastSyncResult,
    extractRequestedAt: row.extractRequestedAt?.toISOString() ?? null,
    credentialEpoch: row.credentialEpoch,
  };
}
