import {
  ErrorCode,
  type CloseSessionRequest,
  type OpenSessionRequest,
  type SyncResult,
} from '@outpost/contracts';
import { DX_VERSION } from '@outpost/dx-format';
import { DomainError } from '@outpost/server-kit';

function fields(body: unknown): Record<string, unknown> {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

export function parseOpenSession(body: unknown): OpenSessionRequest {
  const b = fields(body);
  const problems: string[] = [];
  if (typeof b.client !== 'string' || b.client === '') problems.push('client (string) is required');
  if (typeof b.secret !== 'string' || b.secret === '') problems.push('secret (string) is required');
  if (typeof b.agentVersion !== 'string') problems.push('agentVersion (string) is required');
  if (b.formatVersion !== DX_VERSION)
    problems.push(
      `formatVersion must be ${DX_VERSION}, got ${JSON.stringify(b.formatVersion)}; upgrade the agent`,
    );
  if (b.schema !== undefined) {
    const s = fields(b.schema);
    if (typeof s.name !== 'string' || !Number.isInteger(s.version) || (s.version as number) < 1)
      problems.push('schema must be {name: string, version: integer >= 1}');
  }
  if (problems.length)
    throw new DomainError(ErrorCode.ValidationFailed, `Cannot open a session: ${problems.join('; ')}`);
  return b as unknown as OpenSessionRequest;
}

export function parseCloseSession(body: unknown): CloseSessionRequest {
  const r = fields(fields(body).result);
  if (
    typeof r.ok !== 'boolean' ||
    typeof r.uploadedFiles !== 'number' ||
    typeof r.downloadedFiles !== 'number'
  ) {
    throw new DomainError(
      ErrorCode.ValidationFailed,
      'Body must be {result: {ok: boolean, uploadedFiles: number, downloadedFiles: number, message?: string}}',
    );
  }
  const result: SyncResult = { ok: r.ok, uploadedFiles: r.uploadedFiles, downloadedFiles: r.downloadedFiles };
  if (typeof r.message === 'string') result.message = r.message.slice(0, 2000);
  return { result };
}
