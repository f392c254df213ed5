import { DEFAULT_SIZES, FULL_SIZES, parseOptions } from './options';

const NAMES = ['capture', 'upload'];

describe('bench options', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('uses the default sizes and per-scenario counts when nothing is given', () => {
    const o = parseOptions([], NAMES);
    expect(o).toMatchObject({
      only: null,
      json: false,
      repetitions: null,
      warmup: null,
      sizes: DEFAULT_SIZES,
    });
  });

  it('reads sizes from flags and from environment variables, flags winning', () => {
    process.env.BENCH_UPLOAD_TXNS = '3000';
    process.env.BENCH_AGENTS = '7';
    const o = parseOptions(['--agents', '9', '--reps', '2', '--warmup', '0', '--json'], NAMES);
    expect(o.sizes.uploadTxns).toBe(3000);
    expect(o.sizes.agents).toBe(9);
    expect(o).toMatchObject({ repetitions: 2, warmup: 0, json: true });
  });

  it('starts from the full sizes with --full', () => {
    expect(parseOptions(['--full', '--memory-size', '64'], NAMES).sizes).toEqual({
      ...FULL_SIZES,
      memoryMb: 64,
    });
  });

  it('refuses unknown scenarios and sizes that are not positive integers', () => {
    expect(() => parseOptions(['--only', 'capture,nope'], NAMES)).toThrow(
      'unknown scenario nope in --only; known: capture, upload',
    );
    expect(() => parseOptions(['--capture-rows', '0'], NAMES)).toThrow(
      '--capture-rows must be a positive integer',
    );
    expect(parseOptions(['--only', 'upload'], NAMES).only).toEqual(['upload']);
  });
});
