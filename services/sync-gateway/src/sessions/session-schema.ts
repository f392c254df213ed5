import { ErrorCode, type SchemaRef, type SessionSchema } from '@outpost/contracts';
import type { SchemaSelection } from '@outpost/schema';
import { DomainError } from '@outpost/server-kit';

/**
 * Compares the laptop's schema with the server's when a session opens. A laptop behind gets the
 * steps of every version after its own and upgrades before it uploads; its files already written
 * under the older version still apply. A laptop the server cannot serve is refused before anything
 * moves, with what to do: its unsent changes stay in its outbox.
 */
export function sessionSchema(server: SchemaSelection, laptop: SchemaRef, client: string): SessionSchema {
  const { history, version } = server;
  const theirs = `${laptop.name} v${laptop.version}`;
  const details = {
    server: { name: history.name, version, oldestSupported: history.oldestSupported },
    laptop,
  };
  if (laptop.name !== history.name) {
    throw new DomainError(
      ErrorCode.SchemaMismatch,
      `this laptop holds schema ${theirs} but the server syncs schema ${history.name}; ` +
        `this client folder cannot sync with this server: create a new one with "sync-agent init --schema ${history.name}"`,
      details,
    );
  }
  if (laptop.version > version) {
    throw new DomainError(
      ErrorCode.SchemaTooNew,
      `this laptop holds schema ${theirs}, newer than the server's v${version}: the server is being upgraded or was rolled back; ` +
        'nothing was sent and nothing is lost (unsent changes stay in the outbox): sync again once the server runs ' +
        `v${laptop.version}, or ask the administrator`,
      details,
    );
  }
  if (laptop.version < history.oldestSupported) {
    throw new DomainError(
      ErrorCode.SchemaTooOld,
      `this laptop holds schema ${theirs}, older than the oldest version the server still accepts (v${history.oldestSupported}); ` +
        'nothing was sent and nothing is lost (unsent changes stay in the outbox, "sync-agent status" lists them): ' +
        `ask the administrator to move client ${client} to a new client folder ("sync-agent init"), ` +
        'after re-entering or exporting those changes ("sync-agent dx inspect")',
      details,
    );
  }
  return {
    name: history.name,
    version,
    oldestSupported: history.oldestSupported,
    upgrade: history.stepsBetween(laptop.version, version).map((v) => ({
      version: v.version,
      ...(v.note === undefined ? {} : { note: v.note }),
      steps: v.steps as unknown as Array<Record<string, unknown>>,
    })),
  };
}
