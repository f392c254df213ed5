import type { MigrationInterface } from 'typeorm';
import { SyncClient1760000000100 } from './1760000000100-sync-client';
import { SyncInboxFile1760000000200 } from './1760000000200-sync-inbox-file';
import { SyncApplyPosition1760000000300 } from './1760000000300-sync-apply-position';
import { SyncTxnLog1760000000400 } from './1760000000400-sync-txn-log';
import { SyncedTables1760000000500 } from './1760000000500-synced-tables';
import { SyncConflict1760000000600 } from './1760000000600-sync-conflict';
import { SyncRouter1760000000700 } from './1760000000700-sync-router';
import { SyncInboxDeadEnds1760000002100 } from './1760000002100-sync-inbox-dead-ends';
import { SyncSchemaVersion1760000002200 } from './1760000002200-sync-schema-version';
import { LogicalCapture1760000002400 } from './1760000002400-logical-capture';
import { SyncClientCredentialEpoch1760000009100 } from './1760000009100-sync-client-credential-epoch';
import { SyncRefusal1760000002200 } from './1760000002200-sync-refusal';
import { SyncAuthAudit1760000009300 } from './1760000009300-sync-auth-audit';
import { RetentionIndexes1760000009500 } from './1760000009500-retention-indexes';

/**
 * Every migration of the one server database. TypeORM runs them in the order of the 13-digit
 * timestamp that ends each class name (not the order of this array), so a new migration takes a
 * timestamp above every existing one: `<timestamp>-<what>.ts` exporting `class <What><timestamp>`.
 */
export const migrations: Array<new () => MigrationInterface> = [
  SyncClient1760000000100,
  SyncInboxFile1760000000200,
  SyncApplyPosition1760000000300,
  SyncTxnLog1760000000400,
  SyncedTables1760000000500,
  SyncConflict1760000000600,
  SyncRouter1760000000700,
  SyncInboxDeadEnds1760000002100,
  SyncSchemaVersion1760000002200,
  LogicalCapture1760000002400,
  SyncClientCredentialEpoch1760000009100,
  SyncRefusal1760000002200,
  SyncAuthAudit1760000009300,
  RetentionIndexes1760000009500,
];
