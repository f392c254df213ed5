import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OpenSessionResponse } from '@outpost/contracts';
import { LOG_TABLE } from '@outpost/schema';
import { LocalStore, StateKey } from '../local-store/local-store';

export interface PositionShift {
  files: number;
  txns: number;
}

/**
 * A laptop set up again for an existing client (a new folder, the same client name) continues
 * where the server stands: its upload files are numbered after the last file the server holds, its
 * changes after the last transaction seq, so nothing it sends collides with its predecessor's
 * files (which would be refused as FILE_SEQ_TAKEN forever). Decided once, at the first session of
 * the local store; changes made before that session (offline after `init`) are renumbered in
 * one transaction and their outbox files written again. A store that has already been in touch
 * with the server (an acknowledged upload, a download) keeps its numbering.
 */
export function adoptServerPosition(
  store: LocalStore,
  outboxDir: string,
  session: Pick<OpenSessionResponse, 'lastUploadedFileSeq' | 'lastUploadedTxnSeq'>,
): PositionShift | null {
  if (store.getState(StateKey.serverPositionKnown) !== null) return null;
  const db = store.db;
  const shift = db
    .transaction((): PositionShift | null => {
      store.setState(StateKey.serverPositionKnown, new Date().toISOString());
      const files = session.lastUploadedFileSeq;
      const txns = session.lastUploadedTxnSeq ?? 0;
      const talkedBefore =
        (db.prepare(`SELECT 1 FROM _outpost_file WHERE status = 'sent' LIMIT 1`).get() ?? null) !== null ||
        store.getState(StateKey.downloadEpoch) !== null;
      if (talkedBefore || (files === 0 && txns === 0)) return null;
      store.setState(StateKey.fileSeqBase, String(files));
      // Entries move up by `txns` (through negative seqs, so no two rows ever share one on the way).
      db.prepare(`UPDATE ${LOG_TABLE} SET seq = -seq`).run();
      db.prepare(
        `UPDATE ${LOG_TABLE} SET seq = -seq + ?, file_seq = CASE WHEN file_seq IS NULL THEN NULL ELSE file_seq + ? END`,
      ).run(txns, files);
      // The high-water mark: the next local change gets seq txns + 1 even when the log is empty.
      if (txns > 0)
        db.prepare(
          `INSERT OR IGNORE INTO ${LOG_TABLE} (seq, at, table_name, row_id, op, confirmed) VALUES (?, 0, '', '', 'update', 1)`,
        ).run(txns);
      db.prepare(`UPDATE _outpost_file SET file_seq = -file_seq`).run();
      db.prepare(
        `UPDATE _outpost_file SET file_seq = -file_seq + ?, first_seq = first_seq + ?, last_seq = last_seq + ?,
                status = 'assigned', sha256 = NULL, bytes = NULL`,
      ).run(files, txns, txns);
      return { files, txns };
    })
    .immediate();
  if (shift) {
    // Files written under the old numbers; the outbox writes them again under the new ones.
    for (const name of fs.readdirSync(outboxDir)) {
      if (/^\d{12}\.dx$/.test(name)) fs.rmSync(path.join(outboxDir, name), { force: true });
    }
  }
  return shift;
}
