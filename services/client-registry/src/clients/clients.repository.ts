import { Injectable } from '@nestjs/common';
import type { SyncResult } from '@outpost/contracts';
import { DataSource, QueryFailedError, type Repository } from 'typeorm';
import { SyncClientEntity } from './sync-client.entity';

const UNIQUE_VIOLATION = '23505';

@Injectable()
export class ClientsRepository {
  private readonly repo: Repository<SyncClientEntity>;

  constructor(dataSource: DataSource) {
    this.repo = dataSource.getRepository(SyncClientEntity);
  }

  findByName(name: string): Promise<SyncClientEntity | null> {
    return this.repo.findOneBy({ name });
  }

  list(): Promise<SyncClientEntity[]> {
    return this.repo.find({ order: { name: 'ASC' } });
  }

  /** Inserts a client; resolves null when the name is taken. */
  async insert(name: string, userLogin: string, secretHash: string): Promise<SyncClientEntity | null> {
    try {
      await this.repo.insert({ name, userLogin, secretHash, status: 'active' });
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === UNIQUE_VIOLATION)
        return null;
      throw err;
    }
    return this.findByName(name);
  }

  /**
   * Each update resolves the updated row, or null when no client has that name. Deactivating and
   * rotating the secret bump the credential epoch in the same statement, so no session survives them.
   */
  deactivate(name: string): Promise<SyncClientEntity | null> {
    return this.updateAndGet(name, { status: 'deactivated', credentialEpoch: () => 'credential_epoch + 1' });
  }

  reactivate(name: string): Promise<SyncClientEntity | null> {
    return this.updateAndGet(name, { status: 'active' });
  }

  setSecretHash(name: string, secretHash: string): Promise<SyncClientEntity | null> {
    return this.updateAndGet(name, { secretHash, credentialEpoch: () => 'credential_epoch + 1' });
  }

  recordSync(name: string, result: SyncResult): Promise<SyncClientEntity | null> {
    return this.updateAndGet(name, { lastSyncAt: () => 'now()', lastSyncResult: result });
  }

  requestExtract(name: string): Promise<SyncClientEntity | null> {
    return this.updateAndGet(name, { extractRequestedAt: () => 'now()' });
  }

  private async updateAndGet(
    name: string,
    set: Parameters<Repository<SyncClientEntity>['update']>[1],
  ): Promise<SyncClientEntity | null> {
    const res = await this.repo.update({ name }, set);
    return res.affected ? this.findByName(name) : null;
  }
}
