#!/usr/bin/env node
/*
 * `node libs/server-db/dist/migrate-cli.js`: runs the pending migrations against DATABASE_URL and
 * exits, for a deployment's migration step (the Kubernetes Job) ahead of the services. The services
 * still migrate at start under the same lock, so running both is harmless.
 */
import { migrate } from './migrate';

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  if (!url || url.trim() === '') {
    process.stderr.write('migrate: DATABASE_URL is not set\n');
    return 2;
  }
  const { applied } = await migrate(url);
  process.stdout.write(
    applied.length === 0 ? 'migrate: up to date\n' : `migrate: applied ${applied.join(', ')}\n`,
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
