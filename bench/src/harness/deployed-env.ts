import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVER_SERVICES, type ServerService } from '@outpost/test-support';
import { parse } from 'yaml';

/**
 * The NODE_OPTIONS docker-compose.yml gives each service (the V8 heap caps, mostly), so a bench
 * runs the services as they are deployed; the Kubernetes base carries the same values
 * (`npm run check:deploy` compares them).
 */
export function deployedNodeOptions(repoRoot: string): Partial<Record<ServerService, string>> {
  const compose = parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services?: Record<string, { environment?: Record<string, unknown> }>;
  };
  const options: Partial<Record<ServerService, string>> = {};
  for (const service of SERVER_SERVICES) {
    const value = compose.services?.[service]?.environment?.NODE_OPTIONS;
    if (typeof value === 'string' && value.trim() !== '') options[service] = value;
  }
  return options;
}
