import type { DxHeader } from '@outpost/dx-format';
import type { Schema } from '@outpost/schema';
import { ApplyRejection, ApplyRejectionCode } from './apply-rejection';
import type { ApplyPosition, InboxFile } from './file-applier';

export function describe(file: InboxFile): string {
  return `${file.client}/${file.fileSeq}`;
}

/**
 * What a file's header must say before any of its transactions is read: its client and number,
 * the upload direction, a schema version the server knows, and a first seq right after the
 * client's applied position.
 */
export function checkHeader(
  schema: Schema,
  file: InboxFile,
  header: DxHeader,
  position: ApplyPosition,
): void {
  const problems: string[] = [];
  if (header.client !== file.client)
    problems.push(`header client "${header.client}" is not the uploading client "${file.client}"`);
  if (header.fileSeq !== file.fileSeq)
    problems.push(`header fileSeq ${header.fileSeq} is not the inbox file seq ${file.fileSeq}`);
  if (header.direction !== 'upload') problems.push(`header direction is "${header.direction}", not "upload"`);
  if (problems.length > 0) {
    throw new ApplyRejection(
      ApplyRejectionCode.HeaderMismatch,
      `file ${describe(file)}: ${problems.join('; ')}; the file was misfiled or written by another client — re-upload the right file`,
    );
  }
  // A file of an older version applies as it is: its inserts lack the newer columns, which take
  // their defaults, and columns dropped since are ignored. A newer one needs the server upgraded first.
  if (header.schemaVersion !== undefined && header.schemaVersion > schema.version) {
    throw new ApplyRejection(
      ApplyRejectionCode.SchemaTooNew,
      `file ${describe(file)} was written under schema ${schema.name} v${header.schemaVersion}, but the server runs v${schema.version}; upgrade the server, then retry the file`,
    );
  }
  if (header.count > 0 && header.firstSeq !== position.txnSeq + 1) {
    throw new ApplyRejection(
      ApplyRejectionCode.SeqNotContiguous,
      `file ${describe(file)} starts at transaction seq ${header.firstSeq} but the server applied up to ${position.txnSeq} (file ${position.fileSeq}); transactions ${position.txnSeq + 1}..${header.firstSeq - 1} are missing — re-extract the client`,
    );
  }
}
