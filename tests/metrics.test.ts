import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { metricSample as sample, type ServerService } from '@outpost/test-support';
import { agent } from './support/cli';
import { exec, sync } from './support/laptops';
import { createWorld, type World } from './support/world';

/** Every service serves Prometheus text; after a sync the counters say what happened. */
describe('metrics', () => {
  let world: World;
  const scrape = async (service: ServerService) => {
    const res = await fetch(world.stack.endpoints[service].metrics);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  beforeAll(async () => {
    world = await createWorld();
  }, 120_000);
  afterAll(() => world?.close());

  it('move after a sync: sessions, bytes and files in, changes applied, process figures everywhere', async () => {
    const before = await scrape('sync-gateway');
    const opened = sample(before, 'outpost_sessions_opened_total') ?? 0;

    const dir = await world.laptop('metrics-1', 'alice');
    await exec(
      dir,
      `INSERT INTO account (id, name, owner_login) VALUES ('${randomUUID()}', 'Measured', 'alice')`,
    );
    await sync(dir);
    await world.applied('metrics-1', 1);
    const refused = await agent(['sync', '--dir', dir, '--secret', 'not-the-secret', '--json']);
    expect(refused.code).not.toBe(0);

    const gateway = await scrape('sync-gateway');
    expect(sample(gateway, 'outpost_sessions_opened_total')).toBeGreaterThanOrEqual(opened + 2);
    expect(sample(gateway, 'outpost_sessions_refused_total', { status: '401' })).toBe(1);
    expect(sample(gateway, 'outpost_files_received_total')).toBe(1);
    expect(sample(gateway, 'outpost_bytes_received_total', { route: 'upload' })).toBeGreaterThan(100);
    expect(sample(gateway, 'outpost_bytes_sent_total', { route: 'download' })).toBeGreaterThan(0);
    expect(sample(gateway, 'process_cpu_seconds_total', { service: 'sync-gateway' })).toBeGreaterThan(0);

    const inbox = await scrape('inbox-store');
    expect(sample(inbox, 'outpost_bytes_received_total', { route: 'inbox-upload' })).toBeGreaterThan(100);

    const applier = await scrape('applier');
    expect(sample(applier, 'outpost_inbox_files', { status: 'applied' })).toBe(1);
    expect(sample(applier, 'outpost_transactions_applied')).toBe(1);
    expect(sample(applier, 'outpost_apply_lag_seconds')).toBe(0);
    expect(
      sample(applier, 'outpost_client_backlog_files', { client: 'metrics-1', direction: 'up' }),
    ).toBeUndefined();

    const router = await scrape('router');
    expect(sample(router, 'outpost_route_pending_log_entries')).toBeGreaterThanOrEqual(0);
    expect(sample(router, 'outpost_routing_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(router).toContain('# TYPE outpost_replication_slot_lag_bytes gauge');

    const registry = await scrape('client-registry');
    expect(sample(registry, 'nodejs_heap_size_used_bytes', { service: 'client-registry' })).toBeGreaterThan(
      0,
    );
  });

  it('has every metric the Grafana dashboard charts', async () => {
    const dashboard = readFileSync(
      path.resolve(__dirname, '../deploy/grafana/outpost-dashboard.json'),
      'utf8',
    );
    const charted = new Set(dashboard.match(/\b(outpost|process|nodejs)_[a-z0-9_]+/g));
    const services: ServerService[] = ['client-registry', 'inbox-store', 'sync-gateway', 'applier', 'router'];
    const exposed = (await Promise.all(services.map(scrape))).join('\n');
    const missing = [...charted].filter((name) => !exposed.includes(`# TYPE ${name} `));
    expect(missing).toEqual([]);
    expect(charted.size).toBeGreaterThan(10);
  });
});
