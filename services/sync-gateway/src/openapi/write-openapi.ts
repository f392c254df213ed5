#!/usr/bin/env node
/*
 * Writes (or with --check compares) docs/openapi/agent.json and docs/openapi/admin.json from the
 * gateway's controllers, without any connection: the Nest apps are built in preview mode, which
 * maps the routes but instantiates nothing. CI runs --check, so code and documents cannot drift.
 */
import 'reflect-metadata';
import { type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdminModule } from '../admin/admin.module';
import { AgentModule } from '../agent.module';
import type { GatewayInfra } from '../infra/infra.module';
import { buildOpenApiDocument, type ApiKind } from './openapi';

const DOCS = resolve(__dirname, '..', '..', '..', '..', 'docs', 'openapi');

/** Never used in preview mode: providers are not created. */
const NO_INFRA = {} as GatewayInfra;

const modules: Record<ApiKind, DynamicModule> = {
  agent: AgentModule.forRoot(NO_INFRA),
  admin: AdminModule.forRoot(NO_INFRA),
};

async function render(kind: ApiKind): Promise<string> {
  const app = await NestFactory.create(modules[kind], { preview: true, logger: false, abortOnError: false });
  try {
    return `${JSON.stringify(buildOpenApiDocument(app, kind), null, 2)}\n`;
  } finally {
    await app.close();
  }
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  let stale = 0;
  mkdirSync(DOCS, { recursive: true });
  for (const kind of ['agent', 'admin'] as const) {
    const file = join(DOCS, `${kind}.json`);
    const text = await render(kind);
    if (!check) {
      writeFileSync(file, text);
      process.stdout.write(`openapi: wrote ${file}\n`);
      continue;
    }
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      // Missing counts as different.
    }
    if (current !== text) {
      stale++;
      process.stdout.write(`openapi: ${file} differs from the code; run npm run openapi and commit it\n`);
    } else {
      process.stdout.write(`openapi: ${file} matches the code\n`);
    }
  }
  return stale === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`openapi: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  },
);
