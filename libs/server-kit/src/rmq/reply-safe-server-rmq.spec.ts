import { Logger } from '@nestjs/common';
import { RmqContext, ServerRMQ } from '@nestjs/microservices';
import { ReplySafeServerRmq } from './reply-safe-server-rmq';

/** A reply whose confirm fails because the broker connection closed while it was in flight. */
function closedChannel() {
  const sent = Promise.reject(new Error('channel closed'));
  const handled = jest.spyOn(sent, 'catch');
  const sendToQueue = jest.fn(() => sent);
  return { channel: { sendToQueue }, sendToQueue, handled, sent };
}

const options = { urls: ['amqp://127.0.0.1:1'], queue: 'q' };
const context = new RmqContext([{}, {}, 'pattern']);

describe('ReplySafeServerRmq', () => {
  afterEach(() => jest.restoreAllMocks());

  it('handles a reply the closed channel rejects, and logs it, where Nest leaves it unhandled', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const safe = closedChannel();
    const server = new ReplySafeServerRmq(options);
    Object.assign(server, { channel: safe.channel });
    server.sendMessage({ response: { ok: true }, id: 'x' }, 'reply-queue', 'c-1', context);
    await new Promise((resolve) => setImmediate(resolve));
    expect(safe.handled).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(
      expect.stringContaining('reply c-1 to reply-queue was lost: channel closed'),
    );
    const [queue, buffer, sendOptions] = safe.sendToQueue.mock.calls[0] as unknown as [
      string,
      Buffer,
      object,
    ];
    expect(queue).toBe('reply-queue');
    expect(JSON.parse(buffer.toString())).toEqual({ response: { ok: true }, id: 'x' });
    expect(sendOptions).toEqual({ correlationId: 'c-1' });

    // Nest's own server drops the promise: the rejection reaches nobody and would end the process.
    const plain = closedChannel();
    const nest = new ServerRMQ(options);
    Object.assign(nest, { channel: plain.channel });
    nest.sendMessage({ response: { ok: true }, id: 'x' }, 'reply-queue', 'c-2', context);
    expect(plain.handled).not.toHaveBeenCalled();
    plain.sent.catch(() => undefined);
  });
});
