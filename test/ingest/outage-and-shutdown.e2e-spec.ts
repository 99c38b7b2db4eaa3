// No message is acked before the database committed it: the database going away mid-stream
// loses nothing, and a shutdown finishes the batch in flight.
import { eventually } from '../support/poll';
import { T } from '../support/amqp';
import { startIngest, Harness } from '../support/ingest-harness';
import { kazoo, nowS } from '../support/messages';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_DATABASE_URL } from '../support/test-env';
import { startIngestApp } from '../support/apps';
import { testConfig } from '../support/test-env';

const countLive = (h: Harness, realm: string) =>
  h.pool
    .query(
      `SELECT count(*)::int AS n FROM registrations WHERE realm_key = $1 AND ended_at IS NULL`,
      [realm],
    )
    .then((r) => r.rows[0].n as number);

describe('the database stopped mid-stream and back', () => {
  const proxy = TcpProxy.inFrontOf(TEST_DATABASE_URL);
  let h: Harness;

  beforeAll(async () => {
    await proxy.up();
    h = await startIngest({ DATABASE_URL: proxy.reach(TEST_DATABASE_URL) });
  });
  afterAll(async () => {
    await h.stop();
    await proxy.down();
  });

  it('commits every event once the database is back, with nothing dead-lettered', async () => {
    const realm = 'outage.example.net';
    const ts = nowS();
    const phones = Array.from({ length: 3000 }, (_, i) => kazoo({ realm, username: `p${i}`, ts }));
    await h.broker.publish(phones.slice(0, 1000));
    await eventually(
      () => countLive(h, realm),
      (n) => n > 0,
      { what: 'the first commits' },
    );
    await proxy.down();
    await h.broker.publish(phones.slice(1000));
    // While it is down nothing more is acked: the rest stays in RabbitMQ (queued or unacked).
    const ready = await eventually(
      () => fetch(`${h.ingest.url}/readyz`),
      (r) => r.status === 503,
      { what: 'readyz to report the outage' },
    );
    expect(await ready.json()).toMatchObject({ status: 'unavailable', broker: 'ok' });
    await new Promise((r) => setTimeout(r, 1500)); // let the consumer hit the outage and back off
    await proxy.up();
    const n = await eventually(
      () => countLive(h, realm),
      (v) => v === 3000,
      { timeoutMs: 45_000, what: 'all 3000 phones after the outage' },
    );
    expect(n).toBe(3000);
    expect(await h.broker.queueDepth(T.deadLetterQueue.name)).toBe(0);
    await eventually(
      () => fetch(`${h.ingest.url}/readyz`).then((r) => r.status),
      (s) => s === 200,
      { what: 'ready again' },
    );
  });
});

describe('shutdown', () => {
  it('stops consuming, finishes the batch in flight and leaves the rest queued: nothing lost', async () => {
    const h = await startIngest();
    const realm = 'shutdown.example.net';
    const ts = nowS();
    const phones = Array.from({ length: 6000 }, (_, i) => kazoo({ realm, username: `s${i}`, ts }));
    await h.broker.publish(phones);
    await eventually(
      () => countLive(h, realm),
      (n) => n > 0,
      { what: 'consumption to start' },
    );
    await h.ingest.app.close(); // what SIGTERM does (enableShutdownHooks)
    const committed = await countLive(h, realm);
    const queued = await eventually(
      () => h.broker.queueDepth(T.kazooQueue.name),
      (q) => committed + q >= 6000,
      { what: 'unacked messages back in the queue' },
    );
    expect(committed + queued).toBe(6000);
    // A new instance picks up exactly where the old one stopped.
    const again = await startIngestApp(testConfig());
    await eventually(
      () => countLive(h, realm),
      (n) => n === 6000,
      { what: 'the rest after restart' },
    );
    await again.app.close();
    await h.broker.close();
    await h.pool.end();
  });
});
