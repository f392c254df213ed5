#!/usr/bin/env node
/*
 * `npm run pack:agent [-- --out DIR]`: the laptop agent as one npm package that installs without
 * this repository: `npm install -g outpost-sync-agent-<version>.tgz`.
 *
 * The agent's workspace libraries (@outpost/contracts, dx-format, schema) are private and never
 * published, so they travel inside the tarball as bundled dependencies (their package.json and
 * dist/ only). Everything else is an ordinary dependency installed on the laptop; better-sqlite3
 * is compiled there for the laptop's own Node. Needs `npm run build` first.
 */
'use strict';

const { execFileSync } = require('node:child_process');
const {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const repoRoot = resolve(__dirname, '..');
const PACKAGE_NAME = 'outpost-sync-agent';

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/** The workspace packages the agent needs at run time, found through their package.json. */
function workspaceClosure(manifest, byName, seen = new Set()) {
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (!byName.has(name) || seen.has(name)) continue;
    seen.add(name);
    workspaceClosure(byName.get(name).manifest, byName, seen);
  }
  return seen;
}

function copyBuilt(fromDir, toDir) {
  const dist = join(fromDir, 'dist');
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run npm run build first`);
  mkdirSync(toDir, { recursive: true });
  // Compiled code only: no specs, no incremental-build state.
  cpSync(dist, join(toDir, 'dist'), {
    recursive: true,
    filter: (src) => !/\.spec\.(js|d\.ts)(\.map)?$/.test(src) && !src.endsWith('.tsbuildinfo'),
  });
}

function packAgent(outDir) {
  const root = readJson(join(repoRoot, 'package.json'));
  const byName = new Map(
    root.workspaces.map((dir) => {
      const manifest = readJson(join(repoRoot, dir, 'package.json'));
      return [manifest.name, { dir: join(repoRoot, dir), manifest }];
    }),
  );
  const agent = readJson(join(repoRoot, 'client-agent/package.json'));
  const bundled = [...workspaceClosure(agent, byName)].sort();

  const stage = mkdtempSync(join(tmpdir(), 'outpost-agent-pack-'));
  try {
    copyBuilt(join(repoRoot, 'client-agent'), stage);
    cpSync(join(repoRoot, 'client-agent/bin'), join(stage, 'bin'), { recursive: true });
    cpSync(join(repoRoot, 'client-agent/README.md'), join(stage, 'README.md'));

    const dependencies = {};
    for (const [name, range] of Object.entries(agent.dependencies)) dependencies[name] = range;
    for (const name of bundled) {
      const { dir, manifest } = byName.get(name);
      const target = join(stage, 'node_modules', name);
      copyBuilt(dir, target);
      writeFileSync(
        join(target, 'package.json'),
        `${JSON.stringify({ name, version: manifest.version, main: manifest.main, types: manifest.types, dependencies: manifest.dependencies ?? {} }, null, 2)}\n`,
      );
      // A bundled library's own external dependencies are the agent's to install.
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
        if (!byName.has(dep)) dependencies[dep] = range;
      }
      dependencies[name] = manifest.version;
    }

    const manifest = {
      name: PACKAGE_NAME,
      version: agent.version,
      description:
        'Outpost laptop agent (sync-agent): local SQLite store, outbox and inbox, sync with the server',
      license: 'UNLICENSED',
      bin: { 'sync-agent': 'bin/sync-agent.js' },
      main: 'dist/index.js',
      types: 'dist/index.d.ts',
      files: ['bin', 'dist', 'README.md'],
      engines: root.engines,
      dependencies,
      bundleDependencies: bundled,
    };
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

    mkdirSync(outDir, { recursive: true });
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', outDir], {
      cwd: stage,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [info] = JSON.parse(out);
    return { tarball: join(outDir, info.filename), size: info.size, files: info.entryCount, bundled };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--out');
  const outDir = resolve(at >= 0 ? process.argv[at + 1] : join(repoRoot, 'dist-agent'));
  try {
    const result = packAgent(outDir);
    console.log(
      `pack:agent: ${result.tarball} (${(result.size / 1024).toFixed(0)} KiB, ${result.files} files; bundles ${result.bundled.join(', ')})`,
    );
    console.log(`install on a laptop with: npm install -g ${result.tarball}`);
  } catch (error) {
    console.error(`pack:agent: ${error.message}`);
    process.exit(1);
  }
}

module.exports = { packAgent };
