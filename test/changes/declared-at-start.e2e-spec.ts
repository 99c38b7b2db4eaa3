// A service subscribing to the change feed may start before any change has happened: the ingest
// declares exchange registrations.changes when it connects (not only when its relay first
// publishes), and again on every reconnection, so that subscriber can bind and then receives
// every change. RabbitMQ refuses to bind a queue to a missing exchange (404 NOT_FOUND), so a
// successful bind without declaring the exchange ourselves is the proof.
import * as amqp from 'amqplib';
import { topology } from '@app/messaging';
import { startIngest, Harness } from '../support/ingest-harness';
import { accountIdOf, kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { TcpProxy } from '../support/tcp-proxy';
import { testConfig } from '../support/test-env';

const CHANGES = topology().changes.name;

interface Received {
  seq: number;
  change: string;
  username: string;
}

/** A subscriber's own queue, bound without declaring the exchange (as a consumer that does not own it would). */
async function subscribe(conn: amqp.ChannelModel, binding: string): Promise<Received[]> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined); // a refused bind rejects below; not an unhandled event too
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, CHANGES, binding);
  const got: Received[] = [];
  await ch.consume(
    queue,
    (m) => {
      if (!m) return;
      const body = JSON.parse(m.content.toString()) as {
        seq: number;
        change: string;
        registration: { username: string };
      };
      got.push({ seq: body.seq, change: body.change, username: body.registration.username });
    },
    { noAck: true },
  );
  return got;
}

/** Whether the exchange exists, asked passively on a channel of its own (a 404 closes it). */
async function exchangeExists(conn: amqp.ChannelModel): Promise<boolean> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    await ch.checkExchange(CHANGES);
    await ch.close();
    return true;
  } catch {
    return false;
  }
}

async function deleteExchange(conn: amqp.ChannelModel): Promise<void> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  await ch.deleteExchange(CHANGES).catch(() => undefined);
  await ch.close().catch(() => undefined);
}

/** Registers `count` users of `realm`, then unregisters the even ones; returns the changes expected. */
async function traffic(h: Harness, realm: string, count: number): Promise<string[]> {
  const ts = nowS();
  const users = Array.from({ length: count }, (_, i) => `u${i}`);
  await h.broker.publish(users.map((username) => kazoo({ realm, username, ts })));
  const gone = users.filter((_, i) => i % 2 === 0);
  await h.broker.publish(
    gone.map((username) => kazoo({ realm, username, ts: ts + 1, expires: 0 })),
  );
  return [...users.map((u) => `${u} registered`), ...gone.map((u) => `${u} unregistered`)].sort();
}

async function expectEveryChange(got: Received[], expected: string[]): Promise<void> {
  await eventually(
    async () => got.length,
    (n) => n >= expected.length,
    { timeoutMs: 30_000, what: `${expected.length} changes on ${CHANGES}` },
  );
  expect(got.map((g) => `${g.username} ${g.change}`).sort()).toEqual(expected);
  const seqs = got.map((g) => g.seq);
  expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
}

// The ingest reaches RabbitMQ through a proxy the test can cut (a lost connection); the
// subscriber and the test's own publisher connect directly.
const AMQP_URL = testConfig().AMQP_URL;
const proxy = TcpProxy.inFrontOf(AMQP_URL);
let admin: amqp.ChannelModel | undefined;
let h: Harness | undefined;

beforeAll(async () => {
  admin = await amqp.connect(AMQP_URL);
  // Whatever an earlier run or suite left: the exchange must come from this ingest's start.
  await deleteExchange(admin);
  expect(await exchangeExists(admin)).toBe(false);
  await proxy.up();
  h = await startIngest({ AMQP_URL: proxy.reach(AMQP_URL) });
});
afterAll(async () => {
  await admin?.close().catch(() => undefined);
  await h?.stop();
  await proxy.down();
});

it('declares registrations.changes at start: a subscriber bound before the first change receives every change', async () => {
  const { rows } = await h!.pool.query(`SELECT count(*)::int AS n FROM registration_changes`);
  expect(rows[0].n).toBe(0); // nothing the relay could have published yet
  const realm = 'declared-at-start.example.net';
  const got = await subscribe(admin!, `*.${accountIdOf(realm)}.#`);
  await expectEveryChange(got, await traffic(h!, realm, 20));
});

it('declares it again on every reconnection, before consuming', async () => {
  await deleteExchange(admin!);
  expect(await exchangeExists(admin!)).toBe(false);
  // Nothing is waiting to be relayed, so only the ingest's reconnection can declare it again.
  await proxy.down();
  await proxy.up();
  await eventually(
    () => exchangeExists(admin!),
    (exists) => exists,
    { timeoutMs: 30_000, what: `${CHANGES} declared again after the reconnection` },
  );
  const realm = 'declared-after-reconnect.example.net';
  const got = await subscribe(admin!, `*.${accountIdOf(realm)}.#`);
  await eventually(
    async () => h!.ingest.transport.isConnected,
    (up) => up,
    { timeoutMs: 30_000, what: 'the ingest consuming again' },
  );
  await expectEveryChange(got, await traffic(h!, realm, 10));
});
