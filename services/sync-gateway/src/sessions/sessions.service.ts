import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ErrorCode,
  type CloseSessionRequest,
  type OpenSessionRequest,
  type OpenSessionResponse,
} from '@outpost/contracts';
import { DomainError } from '@outpost/server-kit';
import { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';
import { RegistryClient } from '../infra/registry.client';
import { AuthAuditRepository } from './auth-audit.repository';
import { OpenAttemptsLimiter } from './open-attempts.limiter';
import { sessionSchema } from './session-schema';
import { SessionTokens, type SessionClaims } from './session-token';

/** What a wrong guess looks like; a registry that is down is not the caller's failure. */
const REFUSED_CREDENTIALS: ReadonlySet<ErrorCode> = new Set([
  ErrorCode.ClientAuthFailed,
  ErrorCode.ClientDeactivated,
  ErrorCode.ClientUnknown,
  ErrorCode.ClientNameInvalid,
  ErrorCode.ValidationFailed,
]);

@Injectable()
export class SessionsService {
  private readonly logger = new Logger(SessionsService.name);

  constructor(
    private readonly attempts: OpenAttemptsLimiter,
    private readonly auditLog: AuthAuditRepository,
    private readonly registry: RegistryClient,
    private readonly tokens: SessionTokens,
    private readonly db: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Only the registry decides who may sync. A name or address with too many recent failures is
   * refused before the registry is asked: a brute force costs the attacker time, not the server
   * a scrypt per guess. Failures and refusals are audited; a success is not.
   */
  async open(req: OpenSessionRequest, address: string, correlationId: string): Promise<OpenSessionResponse> {
    const retryAfterSeconds = this.attempts.retryAfterSeconds(req.client, address);
    if (retryAfterSeconds > 0) {
      await this.audit(req.client, address, 'refused', ErrorCode.TooManyAttempts, correlationId);
      throw new DomainError(
        ErrorCode.TooManyAttempts,
        `Too many failed attempts to open a session; try again in ${retryAfterSeconds} s, and check the client name and secret`,
        { retryAfterSeconds },
        correlationId,
      );
    }
    const client = await this.registry
      .authenticate(req.client, req.secret, correlationId)
      .catch(async (err: unknown) => {
        if (err instanceof DomainError && REFUSED_CREDENTIALS.has(err.code)) {
          this.attempts.recordFailure(req.client, address);
          await this.audit(req.client, address, 'failed', err.code, correlationId);
        }
        throw err;
      });
    this.attempts.recordSuccess(req.client);
    const schema = req.schema && sessionSchema(this.config.schema, req.schema, client.name);
    const { token, claims } = this.tokens.issue(client.name, client.credentialEpoch ?? 1);
    return {
      ...(schema ? { schema } : {}),
      sessionId: claims.sessionId,
      token,
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      ...(await this.lastUploaded(client.name)),
      userLogin: client.userLogin,
    };
  }

  async close(session: SessionClaims, req: CloseSessionRequest, correlationId: string): Promise<void> {
    const { ok, uploadedFiles, downloadedFiles, message } = req.result;
    // The laptop's message is kept for the administrator, but no longer than a line of a table.
    const result = {
      ok,
      uploadedFiles,
      downloadedFiles,
      ...(message === undefined ? {} : { message: message.slice(0, 2000) }),
    };
    await this.registry.recordSync(session.client, result, correlationId);
  }

  /** The audit is for the administrator: losing a record must not change what the caller hears. */
  private async audit(
    clientName: string,
    sourceAddress: string,
    outcome: 'failed' | 'refused',
    code: string,
    correlationId: string,
  ): Promise<void> {
    await this.auditLog.record({ clientName, sourceAddress, outcome, code }).catch((err: Error) => {
      this.logger.warn(`[${correlationId}] session open not audited: ${err.message}`);
    });
  }

  /** Where a laptop set up again for this client continues: after every file and seq the server holds. */
  private async lastUploaded(
    client: string,
  ): Promise<{ lastUploadedFileSeq: number; lastUploadedTxnSeq: number }> {
    const rows: Array<{ file: number; txn: number }> = await this.db.query(
      `SELECT coalesce(max(file_seq), 0)::int AS file, coalesce(max(last_seq), 0)::int AS txn
         FROM sync_inbox_file WHERE client = $1`,
      [client],
    );
    return { lastUploadedFileSeq: rows[0]?.file ?? 0, lastUploadedTxnSeq: rows[0]?.txn ?? 0 };
  }
}
