// Acks of a queue dealt to lanes, against the real RabbitMQ (docs/design.md, "A queue in N
// lanes", Acks). The consumer acks by a watermark: after a commit, one multiple-ack up to just
// below the first delivery not committed (or dead-lettered) yet, in any lane. So a lane that is
// slow holds back the acks of the others but never lets an uncommitted delivery be acked: lost
// with the connection, every delivery from the first uncommitted one on comes back, and nothing
// before it. With one lane, one multiple-ack per batch, as always.
//
// The consumer is driven by a handler of the test's own (the database commit it stands for is
// `return done`), so that one lane can be held mid-batch. Its channel's ack is wrapped to count
// the ack frames. On a queue of its own, filled by one publisher before the consumer starts,
// delivery tag = position in the queue + 1, which the assertions use.
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { BARRIER, BatchConsumer, BatchVerdict } from '@app/messaging';
import { connectTestBroker } from '../support/amqp';
import { eventually } from '../support/poll';
import { TEST_QUEUE_PREFIX } from '../support/test-env';

const QUEUE = `${TEST_QUEUE_PREFIX}.lane-acks`;
const DEAD_LETTER_EXCHANGE = `${TEST_QUEUE_PREFIX}.lane-acks.dlx`;
const DEAD_LETTERS = `${TEST_QUEUE_PREFIX}.lane-acks.dead`;

interface Body {
  i: number;
  lane: number;
  barrier?: boolean;
  poison?: boolean;
}

let admin: ChannelModel;
beforeAll(async () => {
  admin = await connectTestBroker('lane-acks admin');
});
afterAll(async () => {
  await admin?.close();
});

/** A fresh queue holding `bodies`, in this order, and an empty dead-letter queue. */
async function fill(bodies: Body[]): Promise<void> {
  const ch = await admin.createConfirmChannel();
  for (const q of [QUEUE, DEAD_LETTERS]) await ch.deleteQueue(q);
  await ch.assertQueue(QUEUE, { durable: false });
  await ch.assertExchange(DEAD_LETTER_EXCHANGE, 'fanout', { durable: false });
  await ch.assertQueue(DEAD_LETTERS, { durable: false });
  await ch.bindQueue(DEAD_LETTERS, DEAD_LETTER_EXCHANGE, '');
  for (const b of bodies) ch.sendToQueue(QUEUE, Buffer.from(JSON.stringify(b)));
  await ch.waitForConfirms();
  await ch.close();
}

const depth = async (queue: string) => {
  const ch = await admin.createChannel();
  try {
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await ch.close();
  }
};

/** Takes what is in the queue: the positions of its messages. */
async function takeAll(queue: string): Promise<number[]> {
  const ch = await admin.createChannel();
  const out: number[] = [];
  for (let m = await ch.get(queue, { noAck: true }); m; m = await ch.get(queue, { noAck: true }))
    out.push((JSON.parse(m.content.toString()) as Body).i);
  await ch.close();
  return out.sort((a, b) => a - b);
}

/** `n` messages dealt to `lanes` lanes by a hash of their position, as AORs are. */
function stream(n: number, lanes: number, extra: Partial<Record<number, Partial<Body>>> = {}) {
  const hash = (x: number) => {
    let h = Math.imul(x, 0x45d9f3b);
    h = Math.imul(h ^ (h >>> 16), 0x45d9f3b);
    return (h ^ (h >>> 16)) >>> 0;
  };
  return Array.from({ length: n }, (_, i) => ({ i, lane: hash(i + 1) % lanes, ...extra[i] }));
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

/**
 * A consumer with `lanes` lanes; `hold(lane, call)` holds that call of the lane's handler until
 * release(). Counts the ack frames and records each committed batch.
 */
async function startConsumer(o: {
  lanes: number;
  batchSize: number;
  prefetch: number;
  hold?: (lane: number | 'barrier', call: number) => boolean;
}) {
  const conn = await connectTestBroker('lane-acks consumer');
  const ch: Channel = await conn.createChannel();
  await ch.prefetch(o.prefetch);
  const confirm = await conn.createConfirmChannel();
  const acks: { tag: number; multiple: boolean }[] = [];
  const ack = ch.ack.bind(ch);
  ch.ack = (m: ConsumeMessage, allUpTo?: boolean) => {
    acks.push({ tag: m.fields.deliveryTag, multiple: allUpTo === true });
    ack(m, allUpTo);
  };
  const committed: { lane: number | 'barrier'; ids: number[] }[] = [];
  const held: number[][] = [];
  const calls = new Map<number | 'barrier', number>();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const consumer = new BatchConsumer(ch, confirm, {
    queue: QUEUE,
    deadLetterExchange: DEAD_LETTER_EXCHANGE,
    batchSize: o.batchSize,
    lingerMs: 5,
    lanes: o.lanes,
    decode: (content) => JSON.parse(content.toString()) as Body,
    laneOf: (m) => ((m.decoded as Body).barrier ? BARRIER : (m.decoded as Body).lane),
    log: { warn: () => undefined, error: () => undefined },
    handler: async (batch, ctx): Promise<BatchVerdict> => {
      const lane = ctx.getLane();
      const call = (calls.get(lane) ?? 0) + 1;
      calls.set(lane, call);
      const bodies = batch.map((m) => m.decoded as Body);
      if (o.hold?.(lane, call)) {
        held.push(bodies.map((b) => b.i));
        await gate;
      }
      committed.push({ lane, ids: bodies.map((b) => b.i) });
      const rejected = bodies.flatMap((b, index) =>
        b.poison ? [{ index, reason: 'poison: the test says so' }] : [],
      );
      return { outcome: 'done', rejected };
    },
  });
  await consumer.start();
  const committedIds = () => new Set(committed.flatMap((c) => c.ids));
  return { conn, ch, consumer, acks, committed, committedIds, held, release };
}

/** Waits until all `n` deliveries committed, then stops the consumer and closes its connection. */
async function untilAllCommittedThenStop(c: Awaited<ReturnType<typeof startConsumer>>, n: number) {
  await eventually(
    async () => c.committedIds().size,
    (size) => size === n,
    { what: 'every delivery committed' },
  );
  await c.consumer.stop();
  await c.conn.close();
}

/**
 * 4 lanes of 10 with lane 2's second batch held: waits until every other delivery (`others`)
 * committed, checks that the acks reach exactly the first uncommitted delivery (tag t is
 * position t - 1), and returns it with the consumer.
 */
async function holdLaneTwo(n: number, others: (b: Body) => boolean, bodies: Body[]) {
  const c = await startConsumer({
    lanes: 4,
    batchSize: 10,
    prefetch: 1000,
    hold: (lane, call) => lane === 2 && call === 2,
  });
  const rest = bodies.filter(others).map((b) => b.i);
  await eventually(
    async () => ({ held: c.held.length, ids: c.committedIds() }),
    (st) => st.held === 1 && rest.every((i) => st.ids.has(i)),
    { what: 'the other lanes committed everything, lane 2 holding a batch' },
  );
  const committed = c.committedIds();
  const firstUncommitted = range(0, n).find((i) => !committed.has(i))!;
  expect(c.held[0]).toContain(firstUncommitted);
  expect(Math.max(...c.acks.map((a) => a.tag))).toBe(firstUncommitted);
  return { c, firstUncommitted };
}

it('4 lanes, one held mid-stream, connection lost: every delivery from the first uncommitted one comes back, none before it', async () => {
  const n = 400;
  const bodies = stream(n, 4);
  await fill(bodies);
  // Lane 2's second batch is held: lane 2 committed its first, the other lanes go on to the end.
  const { c, firstUncommitted } = await holdLaneTwo(n, (b) => b.lane !== 2, bodies);
  expect(firstUncommitted).toBeGreaterThan(0);
  // The acks so far reach exactly up to it; then the channel goes (a close: RabbitMQ handles the
  // acks sent before it first) and the consumer hears that its tags are void, as the transport
  // tells it on a connection loss; the held batch commits only then.
  await c.ch.close();
  c.consumer.abandon();
  c.release();
  await eventually(
    async () => c.committed.length,
    () => c.committedIds().has(firstUncommitted),
    { what: 'the held batch committed after the loss' },
  );
  await c.conn.close();
  const back = n - firstUncommitted;
  await eventually(
    () => depth(QUEUE),
    (d) => d === back,
    { what: `the ${back} deliveries from the first uncommitted one back in the queue` },
  );
  expect(await takeAll(QUEUE)).toEqual(range(firstUncommitted, n));
});

it('4 lanes, a slow lane, a barrier and a dead letter: nothing uncommitted acked meanwhile, everything acked in the end, at most one ack frame per commit', async () => {
  const n = 400;
  const bodies = stream(n, 4, { 5: { barrier: true }, 41: { poison: true } });
  await fill(bodies);
  const { c } = await holdLaneTwo(n, (b) => b.lane !== 2 || Boolean(b.barrier), bodies);
  c.release();
  await untilAllCommittedThenStop(c, n);
  // Nothing came back when the channel closed: every delivery was acked, the dead letter too.
  expect(await depth(QUEUE)).toBe(0);
  expect(await takeAll(DEAD_LETTERS)).toEqual([41]);
  expect(c.acks.every((a) => a.multiple)).toBe(true);
  expect(c.acks.length).toBeLessThanOrEqual(c.committed.length);
  expect(c.acks.at(-1)!.tag).toBe(n);
});

it('1 lane: one multiple-ack per batch, at its last delivery', async () => {
  const n = 100;
  await fill(stream(n, 1, { 17: { poison: true } }));
  const c = await startConsumer({ lanes: 1, batchSize: 10, prefetch: 1000 });
  await untilAllCommittedThenStop(c, n);
  expect(await depth(QUEUE)).toBe(0);
  expect(await takeAll(DEAD_LETTERS)).toEqual([17]);
  expect(c.acks).toEqual(c.committed.map((b) => ({ tag: b.ids.at(-1)! + 1, multiple: true })));
});
