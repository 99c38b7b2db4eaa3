// Flushes under redelivery, for real. The ingest commits a batch holding a reg_flush from another
// system and the re-registration that followed it, and never acks it: it is SIGKILLed (or loses
// its connection) in between, with RabbitMQ holding the acks back. Delivered again, the batch
// must change nothing: the phone stays registered and the flush ends its binding once. And a
// batch that meets a database outage is dated, when retried, as its first try was.
import type { Pool } from 'pg';
import { T, TestBroker } from '../support/amqp';
import { history, liveBindings, realmChanges, resetDatabase, testPool } from '../support/database';
import { startIngestProcess, IngestProcess } from '../support/ingest-process';
import { kazoo, kazooFlush, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_AMQP_URL, TEST_DATABASE_URL, testConfig } from '../support/test-env';
import { createIngestApp, IngestApp } from '../../apps/ingest/src/ingest.bootstrap';
import { fetchMetricSum } from '../../scripts/support/prometheus-text';

const duplicates = (url: string) =>
  fetchMetricSum(url, 'registrations_ignored_events_total{why="duplicate"}');

let pool: Pool;
let broker: TestBroker;
beforeAll(async () => {
  pool = testPool();
  await resetDatabase(pool);
  broker = await TestBroker.open();
  await broker.purge();
});
afterAll(async () => {
  await broker?.close();
  await pool?.end();
});

describe('killed between commit and ack', () => {
  const proxy = TcpProxy.inFrontOf(TEST_AMQP_URL);
  let killed: IngestProcess | undefined;
  let next: IngestApp | undefined;
  beforeAll(async () => {
    await proxy.up();
  });
  afterEach(async () => {
    await killed?.kill();
    await next?.app.close();
    killed = next = undefined;
  });
  afterAll(async () => {
    await proxy.down();
  });

  /**
   * Runs `before` through an ingest process (acked), then `batch` (committed, never acked), kills
   * it, and lets a new ingest take the batch again. Resolves once the new one applied it.
   */
  async function killedAfterCommit(
    realm: string,
    before: Parameters<TestBroker['publish']>[0],
    batch: Parameters<TestBroker['publish']>[0],
    committed: () => Promise<boolean>,
  ): Promise<void> {
    killed = await startIngestProcess({
      AMQP_URL: proxy.reach(TEST_AMQP_URL),
      INGEST_BATCH_LINGER_MS: '200', // the batch below in one piece
    });
    await broker.publish(before);
    await eventually(
      () => liveBindings(pool, realm),
      (r) => r.length === before.length,
      { what: 'the phones registered' },
    );
    await eventually(
      () => broker.queueDepth(T.kazooQueue.name),
      (n) => n === 0,
      { what: 'nothing left in the queue' },
    );
    proxy.hold(); // the acks of what follows never reach RabbitMQ
    await broker.publish(batch);
    await eventually(committed, (ok) => ok, { what: 'the batch committed' });
    await killed.kill();
    // Unacked, the whole batch is back in the queue. (Perhaps with a message of `before` too:
    // the queue's depth counts only messages not delivered, so its ack may still have been on
    // the way when the proxy started holding; delivered again, it is a duplicate like the rest.)
    await eventually(
      () => broker.queueDepth(T.kazooQueue.name),
      (n) => n >= batch.length && n <= batch.length + before.length,
      { what: 'the batch back in the queue' },
    );
    next = await createIngestApp(testConfig({ SWEEP_INTERVAL_MS: '600000' }), { port: 0 });
    const url = next.url;
    await eventually(
      () => duplicates(url),
      (n) => n >= batch.length,
      { what: 'the batch recognised as applied, message by message' },
    );
  }

  it('a committed [reg_flush of a user, that user re-registering] delivered again: the phone stays registered, flushed once', async () => {
    const realm = 'killed-user-flush.example.net';
    const t = nowS() - 30;
    await killedAfterCommit(
      realm,
      [kazoo({ realm, username: '5001', ts: t - 60, callId: 'c-1' })],
      [kazooFlush(realm, '5001'), kazoo({ realm, username: '5001', ts: t, callId: 'c-2' })],
      async () => (await liveBindings(pool, realm)).some((b) => b.call_id === 'c-2'),
    );
    const live = await liveBindings(pool, realm);
    expect(live.map((b) => [b.username, b.call_id])).toEqual([['5001', 'c-2']]);
    expect((await history(pool, realm)).map((h) => [h.username, h.end_reason])).toEqual([
      ['5001', 'flushed'],
    ]);
    expect(await realmChanges(pool, realm)).toEqual([
      ['5001', 'registered', 'c-1'],
      ['5001', 'flushed', 'c-1'],
      ['5001', 'registered', 'c-2'],
    ]);
  });

  it('a committed realm flush followed by a new phone and a re-registration, delivered again: both stay, every old binding flushed once', async () => {
    const realm = 'killed-realm-flush.example.net';
    const t = nowS() - 30;
    await killedAfterCommit(
      realm,
      [
        kazoo({ realm, username: '6001', ts: t - 60, callId: 'a-1' }),
        kazoo({ realm, username: '6002', ts: t - 50 }),
      ],
      [
        kazooFlush(realm),
        kazoo({ realm, username: '6001', ts: t, callId: 'a-2' }),
        kazoo({ realm, username: '6003', ts: t + 1, contact: '<sip:6003@10.9.9.9:5060>' }),
      ],
      async () => (await liveBindings(pool, realm)).some((b) => b.username === '6003'),
    );
    const live = await liveBindings(pool, realm);
    expect(live.map((b) => [b.username, b.call_id])).toEqual([
      ['6001', 'a-2'],
      ['6003', `6003@${realm}`],
    ]);
    expect((await history(pool, realm)).map((h) => [h.username, h.end_reason]).sort()).toEqual([
      ['6001', 'flushed'],
      ['6002', 'flushed'],
    ]);
    expect(
      (await realmChanges(pool, realm)).filter(([, change]) => change === 'flushed'),
    ).toHaveLength(2);
  });
});

describe('connection lost between commit and ack (the same process goes on)', () => {
  const proxy = TcpProxy.inFrontOf(TEST_AMQP_URL);
  let ingest: IngestApp | undefined;
  beforeAll(async () => {
    await proxy.up();
    ingest = await createIngestApp(
      testConfig({
        AMQP_URL: proxy.reach(TEST_AMQP_URL),
        SWEEP_INTERVAL_MS: '600000',
        INGEST_BATCH_LINGER_MS: '200',
      }),
      { port: 0 },
    );
  });
  afterAll(async () => {
    await ingest?.app.close();
    await proxy.down();
  });

  it('the batch delivered again to a lane whose state moved on changes nothing', async () => {
    const realm = 'reconnect-flush.example.net';
    const t = nowS() - 30;
    await broker.publish([kazoo({ realm, username: '7101', ts: t - 60, callId: 'c-1' })]);
    await eventually(
      () => liveBindings(pool, realm),
      (r) => r.length === 1,
      { what: 'the phone registered' },
    );
    await eventually(
      () => broker.queueDepth(T.kazooQueue.name),
      (n) => n === 0,
      { what: 'nothing left in the queue' },
    );
    const url = ingest!.url;
    const dupsBefore = await duplicates(url);
    proxy.hold();
    await broker.publish([
      kazooFlush(realm, '7101'),
      kazoo({ realm, username: '7101', ts: t, callId: 'c-2' }),
    ]);
    await eventually(
      () => liveBindings(pool, realm),
      (r) => r.some((b) => b.call_id === 'c-2'),
      { what: 'the batch committed' },
    );
    // The connection drops with the acks unsent; the ingest reconnects and gets it all again.
    const port = proxy.port;
    await proxy.down();
    await proxy.up(port);
    await eventually(
      () => duplicates(url),
      (n) => n >= dupsBefore + 2,
      { timeoutMs: 30_000, what: 'the batch recognised as applied' },
    );
    expect((await liveBindings(pool, realm)).map((b) => b.call_id)).toEqual(['c-2']);
    expect((await history(pool, realm)).map((h) => h.end_reason)).toEqual(['flushed']);
    expect(await realmChanges(pool, realm)).toEqual([
      ['7101', 'registered', 'c-1'],
      ['7101', 'flushed', 'c-1'],
      ['7101', 'registered', 'c-2'],
    ]);
  });
});

describe('a batch retried after a database outage', () => {
  const proxy = TcpProxy.inFrontOf(TEST_DATABASE_URL);
  let ingest: IngestApp | undefined;
  beforeAll(async () => {
    await proxy.up();
    ingest = await createIngestApp(
      testConfig({
        DATABASE_URL: proxy.reach(TEST_DATABASE_URL),
        SWEEP_INTERVAL_MS: '600000',
        INGEST_BATCH_LINGER_MS: '200',
      }),
      { port: 0 },
    );
  });
  afterAll(async () => {
    await ingest?.app.close();
    await proxy.down();
  });

  it('dates its leading flush as the first try did: the phone that registered again after it is not stale', async () => {
    const realm = 'retried-flush.example.net';
    const t = nowS() - 30;
    await broker.publish([kazoo({ realm, username: '8101', ts: t - 20, callId: 'c-1' })]);
    await eventually(
      () => liveBindings(pool, realm),
      (r) => r.length === 1,
      { what: 'the phone registered' },
    );
    const url = ingest!.url;
    const retries = () => fetchMetricSum(url, 'registrations_batch_retries_total');
    const retriesBefore = await retries();
    const port = proxy.port;
    await proxy.down();
    // The flush was published after 8101's register; 8101 registers again right after it (its
    // proxy stamps 10 s later), and another phone much later in the same batch.
    await broker.publish([
      kazooFlush(realm),
      kazoo({ realm, username: '8101', ts: t - 10, callId: 'c-2' }),
      kazoo({ realm, username: '8102', ts: t }),
    ]);
    await eventually(retries, (n) => n > retriesBefore, { what: 'the batch failed once' });
    await proxy.up(port);
    const live = await eventually(
      () => liveBindings(pool, realm),
      (r) => r.length === 2,
      { timeoutMs: 30_000, what: 'both phones live after the outage' },
    );
    expect(live.map((b) => [b.username, b.call_id])).toEqual([
      ['8101', 'c-2'],
      ['8102', `8102@${realm}`],
    ]);
    // Ended as of the event before the flush, not the batch's last event.
    const { rows } = await pool.query(
      `SELECT extract(epoch from ended_at)::float8 AS s FROM registration_history WHERE realm_key = $1`,
      [realm],
    );
    expect(rows).toEqual([{ s: t - 20 }]);
  });
});
