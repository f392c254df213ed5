import { Inject, Injectable } from '@nestjs/common';
import type { CloseSessionRequest, OpenSessionRequest, OpenSessionResponse } from '@outpost/contracts';
import { DataSource } from 'typeorm';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG } from '../infra/infra.tokens';
import { RegistryClient } from '../infra/registry.client';
import { sessionSchema } from './session-schema';
import { SessionTokens, type SessionClaims } from './session-token';

@Injectable()
export class SessionsService {
  constructor(
    private readonly registry: RegistryClient,
    private readonly tokens: SessionTokens,
    private readonly db: DataSource,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Only the registry decides who may sync; nothing is recorded for a refused client. */
  async open(req: OpenSessionRequest, correlationId: string): Promise<OpenSessionResponse> {
    const client = await this.registry.authenticate(req.client, req.secret, correlationId);
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
    await this.registry.recordSync(session.client, req.result, correlationId);
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
