/**
 * Agents reach the gateway over HTTPS with a certificate from a private CA, as a company network
 * would terminate TLS in front of the service: with --ca the sync works, without it the agent says
 * the certificate is not trusted and keeps its outbox.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeCertificates } from './support/certificates';
import { agent, agentJson, adminJson } from './support/cli';
import { exec } from './support/laptops';
import { createWorld, type World } from './support/world';

describe('HTTPS with a private CA', () => {
  let world: World;
  let proxy: https.Server;
  let httpsUrl: string;
  let ca: string;

  beforeAll(async () => {
    world = await createWorld();
    const certs = makeCertificates(mkdtempSync(path.join(os.tmpdir(), 'outpost-tls-')));
    ca = certs.ca;
    const target = new URL(world.stack.gatewayUrl);
    proxy = https.createServer({ key: certs.key, cert: certs.cert }, (req, res) => {
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    httpsUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => proxy?.close(resolve));
    await world?.close();
  });

  it('syncs with --ca, and refuses an untrusted certificate clearly without losing the outbox', async () => {
    const { secret } = await adminJson<{ secret: string }>(
      ['clients', 'add', 'tls-laptop', '--user', 'tess'],
      world.stack,
    );
    const dir = world.laptopDir('tls');
    await agentJson([
      'init',
      '--dir',
      dir,
      '--server',
      httpsUrl,
      '--client',
      'tls-laptop',
      '--secret',
      secret,
      '--no-extract',
    ]);
    await exec(dir, `INSERT INTO account (name, owner_login) VALUES ('Secure Ltd', 'tess')`);

    const untrusted = await agent(['sync', '--dir', dir]);
    expect(untrusted.code).not.toBe(0);
    expect(untrusted.stderr).toMatch(/not trusted/);
    expect(untrusted.stderr).toMatch(/--ca/);
    expect(readdirSync(path.join(dir, 'outbox')).filter((f) => f.endsWith('.dx'))).toHaveLength(1);

    const summary = await agentJson<{ uploaded: { files: number } }>(['sync', '--dir', dir, '--ca', ca]);
    expect(summary.uploaded.files).toBe(1);
    await world.applied('tls-laptop', 1);
    const rows = await world.db.query(`SELECT owner_login FROM account WHERE name = 'Secure Ltd'`);
    expect(rows.rows).toEqual([{ owner_login: 'tess' }]);
  });
});
