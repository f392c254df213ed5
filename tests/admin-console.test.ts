import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor } from '@outpost/test-support';
import { adminJson } from './support/cli';
import { exec, sync } from './support/laptops';
import { createWorld, type World } from './support/world';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve(__dirname, '../test-output');

/*
 * The admin console in a real headless Chromium against a running stack: sign in with the admin
 * token, find the client whose file is quarantined, read the reason, fix the cause, retry from
 * the page, and see the file applied. Screenshots are kept in test-output/.
 */
describe('admin console', () => {
  let world: World;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    world = await createWorld();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });
  beforeEach(async () => {
    page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  });
  afterEach(() => page?.close());

  const signIn = async (token: string) => {
    await page.goto(`${world.stack.adminUrl}/`);
    await page.fill('#token', token);
    await page.click('#sign-in button[type=submit]');
  };

  it('refuses a wrong token', async () => {
    await signIn('not-the-admin-token-at-all');
    await page.waitForSelector('#message.error');
    expect(await page.textContent('#message')).toBe('The admin token was refused; sign in again.');
    expect(await page.isVisible('#clients-view')).toBe(false);
  });

  it('shows a quarantined file with its reason and retries it once the cause is fixed', async () => {
    // A file Postgres refuses by a constraint is quarantined; dropping the constraint fixes it.
    await world.db.query(`ALTER TABLE account ADD CONSTRAINT console_no_poison CHECK (name <> 'Poison')`);
    const dir = await world.laptop('console-1', 'alice');
    await exec(
      dir,
      `INSERT INTO account (id, name, owner_login) VALUES ('${randomUUID()}', 'Poison', 'alice')`,
    );
    await sync(dir);
    await waitFor(
      async () =>
        (await adminJson<Array<{ status: string }>>(['inbox', 'console-1'], world.stack))[0]?.status ===
        'quarantined',
      { timeoutMs: 30_000, description: 'the poisoned file quarantined' },
    );

    await signIn(world.stack.adminToken);
    const row = page.locator('#clients tr[data-client="console-1"]');
    await row.waitFor();
    expect(await row.locator('td').nth(1).textContent()).toBe('alice');
    expect(await row.locator('td').nth(2).textContent()).toBe('active');
    expect(await row.locator('td').nth(5).textContent()).toBe('1');

    await row.locator('button', { hasText: 'Inbox' }).click();
    const file = page.locator('#inbox tr[data-file-seq="1"]');
    await file.waitFor();
    expect(await file.locator('td').nth(1).textContent()).toBe('quarantined');
    expect(await file.locator('td').nth(5).textContent()).toContain('console_no_poison');
    expect(await file.locator('button', { hasText: 'Reject' }).count()).toBe(1);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-console-quarantined.png'), fullPage: true });

    await world.db.query(`ALTER TABLE account DROP CONSTRAINT console_no_poison`);
    await file.locator('button', { hasText: 'Retry' }).click();
    await page.waitForSelector('#message:has-text("back in line")');
    await world.applied('console-1', 1);
    await page.click('#back');
    await page.locator('#clients tr[data-client="console-1"] button', { hasText: 'Inbox' }).click();
    await page.waitForSelector('#inbox tr[data-file-seq="1"] td.status-applied');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-console-retried.png'), fullPage: true });
    const names = await world.db.query(`SELECT count(*)::int AS n FROM account WHERE name = 'Poison'`);
    expect(names.rows[0].n).toBe(1);
  });

  it('shows a conflict with both values and a refused change with its reason', async () => {
    const account = randomUUID();
    const opportunity = randomUUID();
    await world.db.query(`INSERT INTO account (id, name, owner_login) VALUES ($1, 'Console Corp', 'alice')`, [
      account,
    ]);
    await world.db.query(
      `INSERT INTO opportunity (id, account_id, name, stage, amount, owner_login)
       VALUES ($1, $2, 'Console deal', 'Prospecting', 100, 'alice')`,
      [opportunity, account],
    );
    const alice = await world.laptop('console-3', 'alice');
    const mallory = await world.laptop('console-4', 'mallory');
    // The server moves the stage while the laptop, offline, moves it elsewhere: server-wins.
    await world.db.query(`UPDATE opportunity SET stage = 'Negotiation' WHERE id = $1`, [opportunity]);
    await exec(alice, `UPDATE opportunity SET stage = 'Closed Lost' WHERE id = '${opportunity}'`);
    await sync(alice);
    // Another user's laptop sends a change of a row it may not see.
    await exec(mallory, `INSERT INTO account (id, name) VALUES ('${account}', 'Mallory was here')`);
    await sync(mallory);
    await world.applied('console-3', 1);
    await world.applied('console-4', 1);

    await signIn(world.stack.adminToken);
    await page.waitForSelector('#clients-view:not([hidden])');
    await page.click('nav [data-view="conflicts"]');
    const conflict = page.locator('#conflicts tr', { hasText: opportunity });
    await conflict.waitFor();
    const cells = await conflict.locator('td').allTextContents();
    expect(cells.slice(1, 3)).toEqual(['console-3', 'update-update']);
    expect(cells[4]).toBe('stage');
    expect(JSON.parse(cells[5])).toBe('Negotiation');
    expect(JSON.parse(cells[6])).toBe('Closed Lost');
    expect(cells.slice(7)).toEqual(['server', 'server-wins']);

    await page.click('nav [data-view="refusals"]');
    const refusal = page.locator(`#refusals tr[data-row-id="${account}"]`);
    await refusal.waitFor();
    const refused = await refusal.locator('td').allTextContents();
    expect(refused.slice(1, 3)).toEqual(['console-4', 'mallory']);
    expect(refused[4]).toBe(`insert account ${account}`);
    expect(refused[5]).toBe('NOT_VISIBLE');
    expect(refused[6]).toMatch(/does not exist or is not shared with you/);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'admin-console-refusals.png'), fullPage: true });
  });

  it('adds a client and shows its secret once', async () => {
    await signIn(world.stack.adminToken);
    await page.waitForSelector('#clients-view:not([hidden])');
    await page.fill('#new-name', 'console-2');
    await page.fill('#new-user', 'bob');
    await page.click('#add-client button[type=submit]');
    await page.waitForSelector('#secret:not([hidden])');
    expect(await page.textContent('#secret')).toMatch(/^Secret of console-2 \(shown only this once/);
    await page.locator('#clients tr[data-client="console-2"]').waitFor();
  });
});
