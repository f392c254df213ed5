import { PassThrough } from 'node:stream';
import { createExtractProgress } from './extract-progress';

/** A stream that says it is a terminal and keeps what was drawn on it. */
function fakeTerminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 120,
  }) as unknown as NodeJS.WriteStream;
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('extract progress', () => {
  it('draws a bar of changes and files on a terminal', async () => {
    const terminal = fakeTerminal();
    const progress = createExtractProgress({ tty: true, stream: terminal.stream });
    progress.begin(7000);
    progress.fileWritten(5000);
    progress.fileWritten(2000);
    progress.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(terminal.text()).toContain('extract  [');
    expect(terminal.text()).toContain('100% | 7000/7000 changes | 2 files');
  });

  it('stays quiet when not on a terminal', async () => {
    const terminal = fakeTerminal();
    const progress = createExtractProgress({ tty: false, stream: terminal.stream });
    progress.begin(10);
    progress.fileWritten(10);
    progress.stop();
    await new Promise((resolve) => setImmediate(resolve));
    expect(terminal.text()).toBe('');
  });
});
