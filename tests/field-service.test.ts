/**
 * The second example schema, field_service, through the same stack as sales (SCHEMA=field_service):
 * the scenario (reference data to everyone, a technician's work orders with their sites, visits and
 * parts used, offline changes up and down), its conflict policies, and convergence of several
 * devices editing the same visit offline. Nothing in the services knows these tables.
 */
import { randomUUID } from 'node:crypto';
import { adminJson } from './support/cli';
import { exec, query, sync, syncUntil, type Rows } from './support/laptops';
import { serverQuiet } from './support/storm-checks';
import { createWorld, type World } from './support/world';

describe('field service schema end to end', () => {
  let world: World;
  const ids = {
    filter: randomUUID(),
    valve: randomUUID(),
    plant: randomUUID(),
    depot: randomUUID(),
    wo1: randomUUID(),
    wo2: randomUUID(),
  };

  const server = async (sql: string, params: unknown[] = []): Promise<Rows> =>
    (await world.db.query(sql, params)).rows as Rows;
  /** Every received file applied and every log entry routed. */
  const quiet = () => serverQuiet(world.db, 60_000, 'field service');

  beforeAll(async () => {
    world = await createWorld({ schema: 'field_service' });
    const q = (sql: string, params: unknown[]) => world.db.query(sql, params);
    await q(
      `INSERT INTO part (id, sku, name, unit_price) VALUES ($1, 'F-100', 'Filter', 12.50), ($2, 'V-200', 'Valve', 80)`,
      [ids.filter, ids.valve],
    );
    await q(
      `INSERT INTO site (id, name, address) VALUES ($1, 'Water plant', 'Quay 1'), ($2, 'Depot', NULL)`,
      [ids.plant, ids.depot],
    );
    await q(
      `INSERT INTO work_order (id, site_id, number, title, technician_login) VALUES
         ($1, $2, 'WO-1', 'Replace filters', 'tom'), ($3, $4, 'WO-2', 'Check valves', 'una')`,
      [ids.wo1, ids.plant, ids.wo2, ids.depot],
    );
  });
  afterAll(async () => {
    await world?.close();
  });

  it('sends each technician the reference data and their own work, both ways', async () => {
    const tom = await world.laptop('tom-laptop', 'tom');
    const una = await world.laptop('una-laptop', 'una');
    expect(await query(tom, 'SELECT sku, unit_price FROM part ORDER BY sku')).toEqual([
      { sku: 'F-100', unit_price: '12.50' },
      { sku: 'V-200', unit_price: '80.00' },
    ]);
    expect(await query(tom, 'SELECT number, status FROM work_order')).toEqual([
      { number: 'WO-1', status: 'open' },
    ]);
    expect(await query(tom, 'SELECT name FROM site')).toEqual([{ name: 'Water plant' }]);
    expect(await query(una, 'SELECT number FROM work_order')).toEqual([{ number: 'WO-2' }]);
    expect(await query(una, 'SELECT name FROM site')).toEqual([{ name: 'Depot' }]);

    // Tom on site, offline: a visit with its report and the parts he used.
    const visit = randomUUID();
    await exec(
      tom,
      `INSERT INTO visit (id, work_order_id, technician_login, started_at, report)
       VALUES ('${visit}', '${ids.wo1}', 'tom', '2026-11-29T08:00:00Z', 'Two filters clogged')`,
    );
    await exec(
      tom,
      `INSERT INTO part_used (visit_id, part_id, quantity) VALUES ('${visit}', '${ids.filter}', 2)`,
    );
    await exec(tom, `UPDATE work_order SET status = 'done' WHERE id = '${ids.wo1}'`);
    await sync(tom);
    await quiet();
    expect(await server('SELECT report FROM visit WHERE id = $1', [visit])).toEqual([
      { report: 'Two filters clogged' },
    ]);
    expect(
      await server('SELECT quantity::int AS quantity FROM part_used WHERE visit_id = $1', [visit]),
    ).toEqual([{ quantity: 2 }]);
    expect(await server('SELECT status FROM work_order WHERE id = $1', [ids.wo1])).toEqual([
      { status: 'done' },
    ]);

    // The office sends Una on a visit of WO-1: she now sees the work order, its site, its visits and parts.
    await world.db.query(
      `INSERT INTO visit (id, work_order_id, technician_login) VALUES (gen_random_uuid(), $1, 'una')`,
      [ids.wo1],
    );
    await syncUntil(una, 'SELECT number FROM work_order ORDER BY number', [
      { number: 'WO-1' },
      { number: 'WO-2' },
    ]);
    expect(await query(una, 'SELECT name FROM site ORDER BY name')).toEqual([
      { name: 'Depot' },
      { name: 'Water plant' },
    ]);
    expect(await query(una, 'SELECT count(*) AS n FROM visit')).toEqual([{ n: 2 }]);
    expect(await query(una, 'SELECT quantity FROM part_used')).toEqual([{ quantity: 2 }]);
    // A new part in the catalogue reaches everyone.
    await world.db.query(
      `INSERT INTO part (id, sku, name, unit_price) VALUES (gen_random_uuid(), 'G-300', 'Gasket', 3)`,
    );
    await syncUntil(tom, `SELECT name FROM part WHERE sku = 'G-300'`, [{ name: 'Gasket' }]);
    await syncUntil(una, `SELECT name FROM part WHERE sku = 'G-300'`, [{ name: 'Gasket' }]);
  });

  it('resolves conflicts by each table policy and every device converges', async () => {
    const laptop = await world.laptop('vic-laptop', 'vic');
    const tablet = await world.laptop('vic-tablet', 'vic');
    const wo = randomUUID();
    const visit = randomUUID();
    const used = randomUUID();
    await world.db.query(
      `INSERT INTO work_order (id, site_id, number, title, technician_login) VALUES ($1, $2, 'WO-9', 'Pump', 'vic')`,
      [wo, ids.depot],
    );
    await world.db.query(`INSERT INTO visit (id, work_order_id, technician_login) VALUES ($1, $2, 'vic')`, [
      visit,
      wo,
    ]);
    await world.db.query(`INSERT INTO part_used (id, visit_id, part_id, quantity) VALUES ($1, $2, $3, 1)`, [
      used,
      visit,
      ids.valve,
    ]);
    await syncUntil(laptop, 'SELECT quantity FROM part_used', [{ quantity: 1 }]);
    await syncUntil(tablet, 'SELECT quantity FROM part_used', [{ quantity: 1 }]);

    // Both offline. The laptop edits first (earlier change time) but syncs last.
    await exec(laptop, `UPDATE work_order SET status = 'waiting' WHERE id = '${wo}'`);
    await exec(laptop, `UPDATE visit SET report = 'laptop report' WHERE id = '${visit}'`);
    await exec(laptop, `UPDATE part_used SET quantity = 3 WHERE id = '${used}'`);
    await exec(tablet, `UPDATE work_order SET status = 'done' WHERE id = '${wo}'`);
    await exec(tablet, `UPDATE visit SET report = 'tablet report' WHERE id = '${visit}'`);
    await exec(tablet, `UPDATE part_used SET quantity = 4 WHERE id = '${used}'`);
    await sync(tablet);
    await quiet();
    await sync(laptop);
    await quiet();

    // work_order server-wins: the tablet's status, applied first, stays; visit latest-wins: the
    // tablet's later edit; part_used client-wins: the laptop, applied last.
    expect(await server('SELECT status FROM work_order WHERE id = $1', [wo])).toEqual([{ status: 'done' }]);
    expect(await server('SELECT report FROM visit WHERE id = $1', [visit])).toEqual([
      { report: 'tablet report' },
    ]);
    expect(await server('SELECT quantity::int AS quantity FROM part_used WHERE id = $1', [used])).toEqual([
      { quantity: 3 },
    ]);
    const conflicts = await adminJson<
      Array<{ table: string; column: string; policy: string; winner: string }>
    >(['conflicts', 'list', '--client', 'vic-laptop'], world.stack);
    expect(conflicts.map((c) => `${c.table}.${c.column} ${c.policy} ${c.winner}`).sort()).toEqual([
      'part_used.quantity client-wins client',
      'visit.report latest-wins server',
      'work_order.status server-wins server',
    ]);

    // Both devices converge to the server's rows.
    for (const dir of [laptop, tablet]) {
      await syncUntil(dir, `SELECT status FROM work_order WHERE id = '${wo}'`, [{ status: 'done' }]);
      await syncUntil(dir, `SELECT report FROM visit WHERE id = '${visit}'`, [{ report: 'tablet report' }]);
      await syncUntil(dir, `SELECT quantity FROM part_used WHERE id = '${used}'`, [{ quantity: 3 }]);
    }
  });

  it('converges when three devices of one technician edit the same rows offline in any order', async () => {
    const devices = await Promise.all(['a', 'b', 'c'].map((d) => world.laptop(`wes-${d}`, 'wes')));
    const wo = randomUUID();
    await world.db.query(
      `INSERT INTO work_order (id, site_id, number, title, technician_login) VALUES ($1, $2, 'WO-20', 'Boiler', 'wes')`,
      [wo, ids.plant],
    );
    for (const dir of devices) await syncUntil(dir, 'SELECT number FROM work_order', [{ number: 'WO-20' }]);
    for (let round = 0; round < 3; round += 1) {
      for (const [i, dir] of devices.entries()) {
        await exec(
          dir,
          `INSERT INTO visit (work_order_id, technician_login, report) VALUES ('${wo}', 'wes', 'd${i} r${round}')`,
        );
        await exec(
          dir,
          `UPDATE visit SET report = 'edited by d${i} in r${round}' WHERE rowid % 2 = ${round % 2}`,
        );
        if (round === 2 && i === 0) await exec(dir, `DELETE FROM visit WHERE report LIKE 'd1%'`);
      }
      for (const dir of round % 2 === 0 ? devices : [...devices].reverse()) await sync(dir);
    }
    for (let pass = 0; pass < 2; pass += 1) {
      for (const dir of devices) {
        await sync(dir);
        await quiet();
      }
    }
    const want = await server(
      `SELECT id::text AS id, report FROM visit WHERE work_order_id = $1 ORDER BY id::text COLLATE "C"`,
      [wo],
    );
    expect(want.length).toBeGreaterThan(0);
    for (const dir of devices) {
      expect(
        await query(dir, `SELECT id, report FROM visit WHERE work_order_id = '${wo}' ORDER BY id`),
      ).toEqual(want);
    }
  });
});
