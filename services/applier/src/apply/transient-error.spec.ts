import { failureSignature, isTransient } from './transient-error';

const pgError = (code: string, message = 'boom') =>
  Object.assign(new Error(message), { code, severity: 'ERROR' });

describe('isTransient', () => {
  it('retries what says nothing about the file: lost connections, deadlocks, shutdowns', () => {
    for (const code of ['08006', '40001', '40P01', '57P01', '53300', '55P03'])
      expect(isTransient(pgError(code))).toBe(true);
    expect(isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('counts everything else against the file, whatever its class', () => {
    expect(isTransient(pgError('54000', 'index row size 5040 exceeds btree version 4 maximum 2704'))).toBe(
      false,
    );
    expect(isTransient(pgError('42P01'))).toBe(false);
    expect(isTransient(new TypeError('x is undefined'))).toBe(false);
  });
});

describe('failureSignature', () => {
  it('is the code and the message, so the same failure repeats the same signature', () => {
    expect(failureSignature(pgError('54000', 'too big'))).toBe('54000: too big');
    expect(failureSignature(new TypeError('nope'))).toBe('TypeError: nope');
  });
});
