import { figure, type ScenarioResult } from './scenario';
import { formatNumber, renderTable } from './table';

describe('report table', () => {
  it('formats numbers with few significant decimals', () => {
    expect(formatNumber(123_456.7)).toBe('123,457');
    expect(formatNumber(12.345)).toBe('12.3');
    expect(formatNumber(0.04321)).toBe('0.043');
    expect(formatNumber(0)).toBe('0');
  });

  it('prints the figure, its range, the baseline, the ratio and whether the target is met', () => {
    const f = figure({ label: 'rows/s', unit: 'rows/s', higherIsBetter: true }, [100, 300, 200], {
      label: 'plain',
      samples: [400, 400],
    });
    const result: ScenarioResult = {
      name: 'capture',
      title: 'client capture',
      sizes: { rows: 10 },
      warmup: 1,
      repetitions: 3,
      figures: [f],
      target: { text: 'ratio >= 0.6', met: false },
      notes: ['a note'],
      durationMs: 2_000,
    };
    const text = renderTable([result]);
    expect(text).toContain(
      'client capture | rows/s (median) | 200 rows/s | 100–300 | 400 rows/s        | 0.50× | ratio >= 0.6 | NO',
    );
    expect(text).toContain('client capture: rows=10; 3 repetitions after 1 warm-up; 2 s; rows/s vs plain');
    expect(text).toContain('  - a note');
  });
});
