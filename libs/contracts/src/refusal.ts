/** Why the server did not apply a laptop's change (one row of sync_refusal). */
export enum RefusalCode {
  /** The change touches a row the client's user cannot see (or that does not exist for it). */
  NotVisible = 'NOT_VISIBLE',
  /** The inserted row would not be visible to the client's user. */
  InsertNotVisible = 'INSERT_NOT_VISIBLE',
  /** The change would make a row the user could not see visible to the user. */
  GainsVisibility = 'GAINS_VISIBILITY',
  /** The change takes a row out of the user's own visibility, which its table does not allow. */
  HandOffNotAllowed = 'HAND_OFF_NOT_ALLOWED',
  /** The table does not allow laptops this kind of write. */
  WriteNotAllowed = 'WRITE_NOT_ALLOWED',
  /** An earlier change of the same row in the same upload was refused. */
  FollowsRefused = 'FOLLOWS_REFUSED',
  /** The file names a user other than the client's registered user: every change of it is refused. */
  ForgedUser = 'FORGED_USER',
  /** An administrator rejected the (quarantined) file: every change of it is refused. */
  RejectedByAdmin = 'REJECTED_BY_ADMIN',
}

export interface RefusalView {
  id: string;
  at: string;
  client: string;
  userLogin: string;
  fileSeq: number;
  /** The client's transaction seq. */
  txnSeq: number;
  table: string;
  rowId: string;
  op: string;
  code: RefusalCode;
  reason: string;
}
