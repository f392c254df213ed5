import { Inject, Injectable } from '@nestjs/common';
import {
  ErrorCode,
  isValidClientName,
  patterns,
  type ClientView,
  type ClientWithSecret,
  type SyncResult,
} from '@outpost/contracts';
import {
  DomainError,
  EventPublisher,
  generateSecret,
  hashSecret,
  verifySecret,
  VerifiedSecretCache,
} from '@outpost/server-kit';
import { ClientsRepository } from './clients.repository';
import { toClientView, type SyncClientEntity } from './sync-client.entity';

/** Verified against when the client is unknown, so a refusal takes as long whether or not the name exists. */
const DECOY_HASH =
  'scrypt$N=16384,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

@Injectable()
export class ClientsService {
  /** Laptops sync often: a secret pays the slow hash once per quarter hour, not once per session. */
  private readonly secrets = new VerifiedSecretCache();

  constructor(
    private readonly repo: ClientsRepository,
    @Inject(EventPublisher) private readonly publisher: EventPublisher,
  ) {}

  async add(name: unknown, userLogin: unknown): Promise<ClientWithSecret> {
    const clientName = checkName(name);
    if (typeof userLogin !== 'string' || userLogin.trim() === '' || userLogin.length > 128) {
      throw new DomainError(
        ErrorCode.ValidationFailed,
        'userLogin must be a non-empty string of at most 128 characters',
      );
    }
    const secret = generateSecret();
    const row = await this.repo.insert(clientName, userLogin.trim(), await hashSecret(secret));
    if (!row) {
      throw new DomainError(
        ErrorCode.ClientExists,
        `Client "${clientName}" already exists; pick another name or rotate its secret`,
        {
          name: clientName,
        },
      );
    }
    return { client: toClientView(row), secret };
  }

  async list(): Promise<ClientView[]> {
    return (await this.repo.list()).map(toClientView);
  }

  async get(name: unknown): Promise<ClientView> {
    return toClientView(await this.existing(name));
  }

  /**
   * An unknown name and a wrong secret get the same answer, after the same slow hash (DECOY_HASH),
   * so neither the message nor the time tells whether a name exists. Deactivation is told only to
   * someone who holds the secret.
   */
  async authenticate(name: unknown, secret: unknown): Promise<ClientView> {
    const row = isValidClientName(name) ? await this.repo.findByName(name) : null;
    const given = typeof secret === 'string' ? secret : '';
    const verified = row
      ? await this.secrets.verify(given, row.secretHash)
      : await verifySecret(given, DECOY_HASH);
    if (!row || !verified) {
      throw new DomainError(
        ErrorCode.ClientAuthFailed,
        `Unknown client "${String(name).slice(0, 64)}" or wrong secret; check the name and ask an administrator for the current secret`,
      );
    }
    if (row.status === 'deactivated') {
      throw new DomainError(
        ErrorCode.ClientDeactivated,
        `Client "${row.name}" is deactivated; it may no longer synchronize`,
      );
    }
    return toClientView(row);
  }

  async deactivate(name: unknown): Promise<ClientView> {
    return toClientView(orUnknown(await this.repo.deactivate(checkName(name)), name));
  }

  /** Lets a deactivated client synchronize again with the secret it already holds. */
  async reactivate(name: unknown): Promise<ClientView> {
    return toClientView(orUnknown(await this.repo.reactivate(checkName(name)), name));
  }

  async rotateSecret(name: unknown): Promise<{ client: ClientView; secret: string }> {
    const secret = generateSecret();
    const row = orUnknown(await this.repo.setSecretHash(checkName(name), await hashSecret(secret)), name);
    return { client: toClientView(row), secret };
  }

  async recordSync(name: unknown, result: SyncResult): Promise<ClientView> {
    if (typeof result !== 'object' || result === null) {
      throw new DomainError(ErrorCode.ValidationFailed, 'record-sync needs a result object');
    }
    return toClientView(orUnknown(await this.repo.recordSync(checkName(name), result), name));
  }

  /** Records the request, then kicks the router so the new extract starts without waiting for its poll. */
  async reextract(name: unknown): Promise<ClientView> {
    const row = orUnknown(await this.repo.requestExtract(checkName(name)), name);
    await this.publisher.publish('routerKick', patterns.routerKick, {
      reason: 'reextract',
      client: row.name,
    });
    return toClientView(row);
  }

  private async existing(name: unknown): Promise<SyncClientEntity> {
    return orUnknown(await this.repo.findByName(checkName(name)), name);
  }
}

function checkName(name: unknown): string {
  if (!isValidClientName(name)) {
    throw new DomainError(
      ErrorCode.ClientNameInvalid,
      `Invalid client name "${String(name)}": use 1-64 letters, digits, '_', '.', '-', starting with a letter or digit`,
    );
  }
  return name;
}

function orUnknown(row: SyncClientEntity | null, name: unknown): SyncClientEntity {
  if (!row) throw new DomainError(ErrorCode.ClientUnknown, `No client named "${String(name)}" is registered`);
  return row;
}
