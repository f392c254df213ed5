import { PgoutputPlugin, type Pgoutput } from 'pg-logical-replication';
import { keepText, wireBytes } from './stream-parse';

/** A pgoutput logical message ('M') as the WAL sender puts it on the wire. */
function messageBytes(prefix: string, content: string): Buffer {
  const body = Buffer.from(content, 'utf8');
  const head = Buffer.alloc(1 + 1 + 8);
  head.writeUInt8(0x4d, 0);
  head.writeUInt8(1, 1); // transactional
  head.writeUInt32BE(0, 2);
  head.writeUInt32BE(0x16b3748, 6);
  const len = Buffer.alloc(4);
  len.writeInt32BE(body.length, 0);
  return Buffer.concat([head, Buffer.from(`${prefix}\0`, 'utf8'), len, body]);
}

function plugin(): PgoutputPlugin {
  const p = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['p'], messages: true });
  keepText(p);
  return p;
}

describe('keepText', () => {
  it("keeps a logical message's content when the driver reuses its read buffer", () => {
    const wire = messageBytes('outpost', '{"kind":"origin","client":"laptop-1","user":"alice"}');
    const msg = plugin().parse(wire) as Pgoutput.MessageMessage;
    // The connection reads the stream's next bytes into the same buffer before the capture gets
    // to the queued message.
    wire.fill(0x58);
    expect(msg.prefix).toBe('outpost');
    expect(Buffer.from(msg.content).toString('utf8')).toBe(
      '{"kind":"origin","client":"laptop-1","user":"alice"}',
    );
  });

  it("records each message's size on the wire", () => {
    const wire = messageBytes('outpost', '{"kind":"confirm","client":"c","upTo":7}');
    const msg = plugin().parse(wire);
    expect(wireBytes.get(msg)).toBe(wire.length);
  });
});
