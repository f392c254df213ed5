import { PassThrough, Readable } from 'node:stream';
import { AgentError } from '../errors';
import { readSecretLine, SecretInput } from './read-secret';

function terminal(): SecretInput & PassThrough & { raw: boolean[] } {
  const input = new PassThrough() as PassThrough & SecretInput & { raw: boolean[] };
  input.isTTY = true;
  input.raw = [];
  input.setRawMode = (raw: boolean) => input.raw.push(raw);
  return input;
}

describe('reading the secret from standard input', () => {
  it('takes the first line of a pipe without its line ending', async () => {
    const printed: string[] = [];
    const secret = await readSecretLine(Readable.from(['s3cr', 'et\r\nsecond line\n']), (t) =>
      printed.push(t),
    );
    expect(secret).toBe('s3cret');
    expect(printed).toEqual([]);
  });

  it('takes a pipe that ends without a newline, and refuses an empty one', async () => {
    await expect(readSecretLine(Readable.from(['only-line']), () => undefined)).resolves.toBe('only-line');
    await expect(readSecretLine(Readable.from([]), () => undefined)).rejects.toThrow(
      /--secret-stdin: standard input gave an empty line/,
    );
    await expect(readSecretLine(Readable.from(['\nnext']), () => undefined)).rejects.toBeInstanceOf(
      AgentError,
    );
  });

  it('on a terminal, reads in raw mode so nothing typed is shown, and handles backspace', async () => {
    const input = terminal();
    const printed: string[] = [];
    const reading = readSecretLine(input, (t) => printed.push(t));
    input.write('s3x');
    input.write('\u007fcret\r');
    await expect(reading).resolves.toBe('s3cret');
    expect(input.raw).toEqual([true, false]);
    expect(printed.join('')).toBe('secret (not shown): \n');
  });

  it('on a terminal, Ctrl-C cancels and restores the terminal', async () => {
    const input = terminal();
    const reading = readSecretLine(input, () => undefined);
    input.write('abc\u0003');
    await expect(reading).rejects.toThrow(/--secret-stdin: cancelled/);
    expect(input.raw).toEqual([true, false]);
  });
});
