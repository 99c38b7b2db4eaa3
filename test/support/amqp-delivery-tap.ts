// Counts what RabbitMQ delivers to a consumer, read off the wire: fed the bytes the broker sends
// on each connection (TcpProxy's `tap`), it parses AMQP 0-9-1 frames and, for every complete
// basic.deliver (method frame, content header, body frames), records the body and the
// `redelivered` flag. The count is the broker's, not the consumer's: it survives the consumer
// being SIGKILLed (its own metrics would not), and a delivery counts once its whole body has
// left the broker, whether or not the consumer read it before it died.
import { createHash } from 'node:crypto';

const FRAME_METHOD = 1;
const FRAME_HEADER = 2;
const FRAME_BODY = 3;
const FRAME_END = 0xce;

interface Pending {
  redelivered: boolean;
  size?: number;
  body: Buffer[];
  got: number;
}

export class AmqpDeliveryTap {
  /** Deliveries per body (sha1 of it). */
  readonly byBody = new Map<string, number>();
  deliveries = 0;
  /** Deliveries the broker flagged `redelivered` (it had delivered that message before). */
  flagged = 0;

  /** A parser for one connection: feed it every chunk the broker sent, in order. */
  connection(): (chunk: Buffer) => void {
    let buf: Buffer = Buffer.alloc(0);
    const pending = new Map<number, Pending>();
    return (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 7) {
        const type = buf[0];
        const channel = buf.readUInt16BE(1);
        const size = buf.readUInt32BE(3);
        if (buf.length < 8 + size) break;
        if (buf[7 + size] !== FRAME_END) {
          buf = Buffer.alloc(0); // not AMQP frames (a protocol-header reply): stop reading
          return;
        }
        this.frame(type, channel, buf.subarray(7, 7 + size), pending);
        buf = buf.subarray(8 + size);
      }
    };
  }

  private frame(type: number, channel: number, p: Buffer, pending: Map<number, Pending>): void {
    if (type === FRAME_METHOD) {
      if (p.readUInt16BE(0) !== 60 || p.readUInt16BE(2) !== 60) return; // basic.deliver only
      let off = 4;
      off += 1 + p[off]; // consumer-tag (shortstr)
      off += 8; // delivery-tag
      pending.set(channel, { redelivered: (p[off] & 1) === 1, body: [], got: 0 });
    } else if (type === FRAME_HEADER) {
      const d = pending.get(channel);
      if (!d) return;
      d.size = Number(p.readBigUInt64BE(4));
      if (d.size === 0) this.complete(channel, pending);
    } else if (type === FRAME_BODY) {
      const d = pending.get(channel);
      if (!d) return;
      d.body.push(Buffer.from(p));
      d.got += p.length;
      if (d.size !== undefined && d.got >= d.size) this.complete(channel, pending);
    }
  }

  private complete(channel: number, pending: Map<number, Pending>): void {
    const d = pending.get(channel)!;
    pending.delete(channel);
    const key = bodyKey(Buffer.concat(d.body));
    this.byBody.set(key, (this.byBody.get(key) ?? 0) + 1);
    this.deliveries++;
    if (d.redelivered) this.flagged++;
  }

  /**
   * Messages delivered more than once: bodies delivered more often than they were published
   * (`published`: how many times each body was published, keyed by `bodyKey`).
   */
  deliveredMoreThanOnce(published: Map<string, number>): number {
    let n = 0;
    for (const [key, count] of this.byBody) if (count > (published.get(key) ?? 0)) n++;
    return n;
  }
}

export function bodyKey(body: Buffer): string {
  return createHash('sha1').update(body).digest('hex');
}
