#!/usr/bin/env node
/*
 * Rewrites package.json in the current folder to what the server image needs at run time: the
 * server libraries and the five services as workspaces, no devDependencies, no scripts. Installing
 * from it (`npm install --omit=dev`, which keeps the versions of package-lock.json) leaves out the
 * laptop agent, the CLIs, the tests and the benchmarks, and with them better-sqlite3,
 * testcontainers, ssh2 and s3rver. Used by the Dockerfile and by `npm run check:deploy`.
 */
'use strict';

const { readFileSync, writeFileSync } = require('node:fs');

const RUNTIME_WORKSPACES = [
  'libs/dx-format',
  'libs/schema',
  'libs/contracts',
  'libs/server-kit',
  'libs/server-db',
  'libs/storage',
  'services/client-registry',
  'services/inbox-store',
  'services/sync-gateway',
  'services/applier',
  'services/router',
];

const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
const unknown = RUNTIME_WORKSPACES.filter((name) => !manifest.workspaces.includes(name));
if (unknown.length > 0) {
  console.error(`runtime-manifest: not workspaces of package.json: ${unknown.join(', ')}`);
  process.exit(1);
}
manifest.workspaces = RUNTIME_WORKSPACES;
delete manifest.devDependencies;
delete manifest.scripts;
writeFileSync('package.json', `${JSON.stringify(manifest, null, 2)}\n`);
module.exports = { RUNTIME_WORKSPACES };
