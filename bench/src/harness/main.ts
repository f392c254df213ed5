import Database from 'better-sqlite3';
import { BenchEnvironment } from './environment';
import { describeMachine, machineInfo, type MachineInfo } from './machine';
import { parseOptions, type BenchOptions } from './options';
import { Progress } from './progress';
import type { Scenario, ScenarioResult } from './scenario';
import { renderTable } from './table';

export interface BenchReport {
  startedAt: string;
  machine: MachineInfo;
  options: Pick<BenchOptions, 'only' | 'repetitions' | 'warmup' | 'sizes'>;
  results: ScenarioResult[];
  failures: Array<{ scenario: string; error: string }>;
}

/** Runs the chosen scenarios one after the other, each on its own stack, and prints the report. */
export async function runBench(scenarios: Scenario[], options: BenchOptions): Promise<BenchReport> {
  const progress = new Progress();
  const info = (line: string) => {
    progress.clear();
    process.stderr.write(`${line}\n`);
  };
  const env = new BenchEnvironment({ keepLogs: options.keepLogs, cpuProfDir: options.cpuProfDir, log: info });
  const chosen = scenarios.filter((s) => options.only === null || options.only.includes(s.name));
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    machine: machineInfo('unknown', sqliteVersion()),
    options: {
      only: options.only,
      repetitions: options.repetitions,
      warmup: options.warmup,
      sizes: options.sizes,
    },
    results: [],
    failures: [],
  };
  try {
    report.machine.postgres = chosen.some((s) => s.services) ? await env.postgresVersion() : 'not used';
    for (const scenario of chosen) {
      const started = Date.now();
      const warmup = options.warmup ?? scenario.defaults.warmup;
      const repetitions = options.repetitions ?? scenario.defaults.repetitions;
      try {
        const result = await scenario.run({
          options,
          sizes: options.sizes,
          env,
          progress,
          warmup,
          repetitions,
        });
        const full: ScenarioResult = {
          name: scenario.name,
          title: scenario.title,
          warmup,
          repetitions,
          ...result,
          durationMs: Date.now() - started,
        };
        report.results.push(full);
        progress.log(`${scenario.title}: done in ${(full.durationMs / 1000).toFixed(0)} s`);
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
        report.failures.push({ scenario: scenario.name, error: message });
        info(`${scenario.title} FAILED: ${message}`);
      } finally {
        await env.release();
      }
    }
  } finally {
    progress.clear();
    await env.close();
  }
  return report;
}

function sqliteVersion(): string {
  const db = new Database(':memory:');
  try {
    return (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

/** Entry point of `run-all` and of every scenario script: flags, run, table or JSON, exit code. */
export async function main(scenarios: Scenario[], argv = process.argv.slice(2)): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(
      argv,
      scenarios.map((s) => s.name),
    );
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return;
    process.stderr.write(`${(error as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  let report: BenchReport;
  try {
    report = await runBench(scenarios, options);
  } catch (error) {
    process.stderr.write(`bench could not start: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    process.stdout.write(`machine: ${describeMachine(report.machine)}\n\n`);
    process.stdout.write(renderTable(report.results));
    for (const f of report.failures) process.stdout.write(`\n${f.scenario} failed: ${f.error}\n`);
  }
  // A missed target is a result, not a failure; a scenario that could not run is.
  if (report.failures.length > 0) process.exitCode = 1;
}
