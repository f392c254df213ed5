#!/usr/bin/env node
/*
 * `node libs/server-db/dist/migrate-cli.js`: runs the pending migrations against DATABASE_URL and
 * exits, for a deployment's migration step (the Kubernetes Job) ahead of the services, with the
 * synced tables of SCHEMA (`name` or `name@version`, default sales) created or upgraded. The services
 * still migrate at start under the same lock, so running both is harmless.
 */
import { selectSchema } from '@outpost/schema';
import { migrate } from './migrate';

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  if (!url || url.trim() === '') {
    process.stderr.write('migrate: DATABASE_URL is not set\n');
    return 2;
  }
  let schema;
  try {
    schema = selectSchema(process.env.SCHEMA?.trim() || 'sales');
  } catch (error) {
    process.stderr.write(`migrate: SCHEMA: ${(error as Error).message}\n`);
    return 2;
  }
  const { applied, syncedSchema } = await migrate(url, schema);
  process.stdout.write(
    applied.length === 0 ? 'migrate: up to date\n' : `migrate: applied ${applied.join(', ')}\n`,
  );
  if (syncedSchema && syncedSchema.from !== syncedSchema.to)
    process.stdout.write(
      `migrate: synced schema ${schema.history.name} ${syncedSchema.from === null ? 'created at' : `v${syncedSchema.from} upgraded to`} v${syncedSchema.to}\n`,
    );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`migrate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
