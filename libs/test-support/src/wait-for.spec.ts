import { TestSupportError, TestSupportErrorCode } from './errors';
import { waitFor } from './wait-for';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? { calls } : null), { intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('keeps polling while fn throws, then returns its value', async () => {
    let calls = 0;
    const value = await waitFor(
      async () => {
        calls += 1;
        if (calls < 4) throw new Error('not yet');
        return 'done';
      },
      { intervalMs: 1 },
    );
    expect(value).toBe('done');
    expect(calls).toBe(4);
  });

  it('on timeout names the description and the last value', async () => {
    const attempt = waitFor(() => null, {
      timeoutMs: 30,
      intervalMs: 5,
      description: 'the file to be applied',
    });
    await expect(attempt).rejects.toThrow(/waiting for the file to be applied; last value: null/);
  });

  it('on timeout names the last error and keeps it as the cause', async () => {
    const failure = new Error('connection refused');
    const error = await waitFor(
      () => {
        throw failure;
      },
      { timeoutMs: 20, intervalMs: 5, description: 'the broker' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestSupportError);
    expect((error as TestSupportError).code).toBe(TestSupportErrorCode.WaitTimedOut);
    expect((error as Error).message).toMatch(/waiting for the broker; last error: Error: connection refused/);
    expect((error as Error & { cause?: unknown }).cause).toBe(failure);
  });

  it('tries at least once even with a zero timeout', async () => {
    await expect(waitFor(() => 'ready', { timeoutMs: 0 })).resolves.toBe('ready');
  });
});
