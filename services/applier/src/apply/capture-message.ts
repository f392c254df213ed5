import type { PoolClient } from 'pg';
import { CAPTURE_MESSAGE_PREFIX, type CaptureMessage } from '@outpost/schema';

/**
 * Tells the router's change capture something about the open transaction: a transactional logical
 * message, delivered by the replication stream in place, between the rows written before and after
 * it. The capture turns confirm and echo messages into log rows and gives rows their origin.
 */
export async function emitCaptureMessage(db: PoolClient, message: CaptureMessage): Promise<void> {
  await db.query('SELECT pg_logical_emit_message(true, $1, $2::text)', [
    CAPTURE_MESSAGE_PREFIX,
    JSON.stringify(message),
  ]);
}
