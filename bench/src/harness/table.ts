import { figureValue, type FigureResult, type ScenarioResult } from './scenario';

/** Numbers as people read them: thousands separated, few significant digits. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const digits = Number.isInteger(value) || abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function withUnit(value: number, unit: string): string {
  return `${formatNumber(value)} ${unit}`;
}

function range(f: { summary: { min: number; max: number } }): string {
  return `${formatNumber(f.summary.min)}–${formatNumber(f.summary.max)}`;
}

function figureCells(scenario: ScenarioResult, f: FigureResult, first: boolean): string[] {
  const met = scenario.target.met === null ? '?' : scenario.target.met ? 'yes' : 'NO';
  return [
    first ? scenario.title : '',
    `${f.label} (${f.stat ?? 'median'})`,
    withUnit(figureValue(f), f.unit),
    f.summary.n > 1 ? range(f) : '',
    f.baseline ? withUnit(f.baseline.summary.median, f.unit) : '—',
    f.ratio === undefined ? '—' : `${f.ratio.toFixed(2)}×`,
    first ? scenario.target.text : '',
    first ? met : '',
  ];
}

const HEADER = ['scenario', 'figure', 'value', 'min–max', 'baseline (median)', 'ratio', 'target', 'met'];

/** An aligned plain-text table, one line per figure; the baseline's name and the notes follow it. */
export function renderTable(results: ScenarioResult[]): string {
  const rows = results.flatMap((r) => r.figures.map((f, i) => figureCells(r, f, i === 0)));
  const widths = HEADER.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join(' | ')
      .trimEnd();
  const out = [line(HEADER), widths.map((w) => '-'.repeat(w)).join('-+-'), ...rows.map(line)];
  out.push('', 'ratio = speed relative to the baseline measured in the same run (1.00× = as fast).');
  for (const r of results) {
    const baselines = r.figures.filter((f) => f.baseline).map((f) => `${f.label} vs ${f.baseline?.label}`);
    const counts = `${r.repetitions} repetition${r.repetitions === 1 ? '' : 's'} after ${r.warmup} warm-up`;
    const sizes = Object.entries(r.sizes)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    out.push(
      `${r.title}: ${sizes}; ${counts}; ${(r.durationMs / 1000).toFixed(0)} s${baselines.length ? `; ${baselines.join('; ')}` : ''}`,
    );
    for (const note of r.notes) out.push(`  - ${note}`);
  }
  return `${out.join('\n')}\n`;
}
