/**
 * Transport: the gateway serves HTTPS itself on both ports when given a certificate and key, and
 * plain HTTP to those ports gets nothing.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCertificates, type TestCertificates } from '../support/certificates';
import { adminJson, agentJson } from '../support/cli';
import { exec } from '../support/laptops';
import { createWorld, type World } from '../support/world';

describe('transport', () => {
  let world: World;
  let certs: TestCertificates;

  beforeAll(async () => {
    certs = makeCertificates(mkdtempSync(path.join(os.tmpdir(), 'outpost-gateway-tls-')));
    world = await createWorld({
      gatewayTls: { certFile: certs.certFile, keyFile: certs.keyFile, caFile: certs.ca },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it('serves HTTPS on the agent and admin ports, and a laptop syncs over it with --ca', async () => {
    expect(world.stack.gatewayUrl).toMatch(/^https:/);
    expect(world.stack.adminUrl).toMatch(/^https:/);
    const { secret } = await adminJson<{ secret: string }>(
      ['clients', 'add', 'tls-direct', '--user', 'tess'],
      world.stack,
      {
        NODE_EXTRA_CA_CERTS: certs.ca,
      },
    );
    const dir = world.laptopDir('tls-direct');
    await agentJson([
      'init',
      '--dir',
      dir,
      '--server',
      world.stack.gatewayUrl,
      '--client',
      'tls-direct',
      '--secret',
      secret,
      '--ca',
      certs.ca,
      '--no-extract',
    ]);
    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Direct TLS Ltd', 'tess')`);
    const summary = await agentJson<{ uploaded: { files: number } }>(['sync', '--dir', dir]);
    expect(summary.uploaded.files).toBe(1);
    await world.applied('tls-direct', 1);
    const rows = await world.db.query(`SELECT owner_login FROM account WHERE name = 'Direct TLS Ltd'`);
    expect(rows.rows).toEqual([{ owner_login: 'tess' }]);
  });

  it('answers nothing to plain HTTP on its TLS ports', async () => {
    for (const url of [world.stack.gatewayUrl, world.stack.adminUrl]) {
      const plain = url.replace(/^https:/, 'http:');
      await expect(fetch(`${plain}/healthz`)).rejects.toThrow();
    }
  });
});
