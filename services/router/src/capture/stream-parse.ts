import type { PgoutputPlugin } from 'pg-logical-replication';

/**
 * Each decoded message's size on the wire (recorded by keepText, which parses every message): its
 * values are that text, so it is what the message holds in memory, known without walking them
 * (which cost more than a second per million rows).
 */
export const wireBytes = new WeakMap<object, number>();

/**
 * Makes the plugin's messages safe to hold in the capture's queue. Column values stay Postgres
 * text: the log stores them as text and JSON, never as JS values. A logical message's content
 * comes out of the parser as a view of the connection's read buffer, which the driver reuses for
 * the stream's next bytes; the capture reads it later, from its queue, so it keeps a copy.
 * Without it a busy stream handed the decoder another message's bytes: the capture failed on
 * them and restarted, reading the slot again from its last confirmed position.
 */
export function keepText(plugin: PgoutputPlugin): void {
  const parse = plugin.parse.bind(plugin);
  plugin.parse = (buffer: Buffer) => {
    const msg = parse(buffer);
    if (msg.tag === 'relation') for (const col of msg.columns) col.parser = (raw: unknown) => raw;
    else if (msg.tag === 'message') msg.content = Buffer.from(msg.content);
    wireBytes.set(msg, buffer.length);
    return msg;
  };
}
