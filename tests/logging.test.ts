import { randomUUID } from 'node:crypto';
import type { ServerService } from '@outpost/test-support';
import { agentJson } from './support/cli';
import { exec } from './support/laptops';
import { createWorld, type World } from './support/world';

/*
 * The services log JSON lines (their stdout is not a terminal), and one sync's correlation id,
 * chosen by the agent, is on the lines of every service the sync touched: the gateway (HTTP), the
 * registry (RPC), inbox-store (HTTP from the gateway) and the applier (the dx.inbox message).
 * No line carries the client's secret or the admin token.
 */
describe('logs', () => {
  let world: World;

  beforeAll(async () => {
    world = await createWorld();
  }, 120_000);
  afterAll(() => world?.close());

  const jsonLines = (service: ServerService) =>
    world.stack
      .logs(service)
      .split('\n')
      // The launcher marks each start of a service in its log file with a `=== ... ===` line.
      .filter((line) => line.trim() !== '' && !line.startsWith('=== '))
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`${service} wrote a line that is not JSON: ${line}`);
        }
      });

  it('are JSON lines carrying the sync session correlation id in every service it touched, without secrets', async () => {
    const secret = await world.register('log-1', 'alice');
    const dir = world.laptopDir('log-1');
    await agentJson([
      'init',
      '--dir',
      dir,
      '--server',
      world.stack.gatewayUrl,
      '--client',
      'log-1',
      '--secret',
      secret,
    ]);
    await exec(
      dir,
      `INSERT INTO account (id, name, owner_login) VALUES ('${randomUUID()}', 'Logged', 'alice')`,
    );
    const summary = await agentJson<{ correlationId: string }>(['sync', '--dir', dir]);
    expect(summary.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    await world.applied('log-1', 1);

    const services: ServerService[] = ['sync-gateway', 'client-registry', 'inbox-store', 'applier'];
    for (const service of services) {
      const lines = jsonLines(service);
      expect(lines.every((l) => l.service === service && typeof l.time === 'string')).toBe(true);
      const ofSync = lines.filter((l) => l.correlationId === summary.correlationId);
      if (ofSync.length === 0) throw new Error(`no ${service} line carries ${summary.correlationId}`);
    }
    const everything = services.map((s) => world.stack.logs(s)).join('\n') + world.stack.logs('router');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(world.stack.adminToken);
  });
});
