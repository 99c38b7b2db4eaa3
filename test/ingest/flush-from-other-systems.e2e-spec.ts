// A reg_flush published by another system (Kazoo's crossbar, an operator's script) on
// `registrar`: Kamailio drops the bindings it holds for that realm or user, and so must we —
// only those, at the time the flush was published, and with the right reason.
import { eventually } from '../support/poll';
import { history, liveBindings } from '../support/database';
import { startIngest, Harness } from '../support/ingest-harness';
import { freeswitch, kazoo, kazooFlush, nowS } from '../support/messages';
import { fetchMetricSum } from '../../scripts/support/prometheus-text';

let h: Harness;
beforeAll(async () => {
  // No sweep during these tests: expiry before the sweep is what one of them looks at.
  h = await startIngest({ SWEEP_INTERVAL_MS: '600000' });
});
afterAll(async () => {
  await h.stop();
});

it('acts on the bindings Kamailio holds only: a FreeSWITCH binding of the same realm stays', async () => {
  const realm = 'mixed.flush.test';
  await h.broker.publish([
    kazoo({ realm, username: '6001', ts: nowS() - 2 }),
    freeswitch({ subclass: 'sofia::register', realm, username: '6002', us: Date.now() * 1000 }),
  ]);
  await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 2,
    { what: 'both bindings live' },
  );
  await h.broker.publish([kazooFlush(realm)]);
  const left = await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the Kamailio binding flushed' },
  );
  expect(left.map((r) => [r.username, r.origin])).toEqual([['6002', 'freeswitch']]);
  expect((await history(h.pool, realm)).map((x) => [x.username, x.end_reason])).toEqual([
    ['6001', 'flushed'],
  ]);
});

it('processed late (after an outage), a flush does not swallow the re-registration published after it', async () => {
  const realm = 'late.flush.test';
  const t = nowS() - 30; // everything below was published 30 s ago, while we were down
  await h.broker.publish([kazoo({ realm, username: '7001', ts: t - 60, callId: 'c-1' })]);
  await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the phone registered' },
  );
  await h.broker.publish([
    kazoo({ realm, username: '7002', ts: t }),
    kazooFlush(realm, '7001'),
    kazoo({ realm, username: '7001', ts: t, callId: 'c-2' }), // re-registers right after
  ]);
  // 7002 may commit before the flush does (another batch): wait for the re-registration.
  const rows = await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 2 && r.some((x) => x.call_id === 'c-2'),
    { what: 'both phones live, 7001 registered again' },
  );
  expect(rows.map((r) => r.username).sort()).toEqual(['7001', '7002']);
  expect(rows.find((r) => r.username === '7001')?.call_id).toBe('c-2');
  const [flushed] = await history(h.pool, realm);
  expect(flushed).toMatchObject({ username: '7001', end_reason: 'flushed' });
  // Ended when the flush was published (no earlier than the event before it), not when processed.
  const { rows: ended } = await h.pool.query(
    `SELECT extract(epoch from ended_at)::float8 AS s FROM registration_history WHERE realm_key = $1`,
    [realm],
  );
  expect(ended[0].s).toBeGreaterThanOrEqual(t - 60);
  expect(ended[0].s).toBeLessThan(t + 5);
});

it('a binding past its expiry but not yet swept ends as expired, at its expiry, not as flushed', async () => {
  const realm = 'expired.flush.test';
  const t = nowS() - 100;
  await h.broker.publish([
    kazoo({ realm, username: '8001', ts: t, expires: 60 }), // expired 40 s ago
    kazoo({ realm, username: '8002', ts: nowS(), expires: 600 }),
  ]);
  await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the live phone' },
  );
  await h.broker.publish([kazooFlush(realm)]);
  const ended = await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 2,
    { what: 'both bindings ended' },
  );
  expect(ended.map((x) => [x.username, x.end_reason]).sort()).toEqual([
    ['8001', 'expired'],
    ['8002', 'flushed'],
  ]);
  const { rows } = await h.pool.query(
    `SELECT username, ended_at = expires_at AS at_expiry FROM registration_history
      WHERE realm_key = $1 ORDER BY username`,
    [realm],
  );
  expect(rows).toEqual([
    { username: '8001', at_expiry: true },
    { username: '8002', at_expiry: false },
  ]);
});

it('a flush first in its batch is dated by the last event before it in the queue: an older refresh arriving behind it stays stale', async () => {
  const realm = 'first-in-batch.flush.test';
  const t = nowS() - 20;
  await h.broker.publish([
    kazoo({ realm, username: '9001', ts: t - 10 }),
    kazoo({ realm, username: '9002', ts: t }),
  ]);
  await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 2,
    { what: 'both phones live' },
  );
  const stale = () =>
    fetchMetricSum(h.ingest.url, 'registrations_ignored_events_total{why="stale"}');
  const staleBefore = await stale();
  // Published before the flush but delivered behind it (Kamailio publishes on many channels).
  await h.broker.publish([
    kazooFlush(realm, '9001'),
    kazoo({ realm, username: '9001', ts: t - 5, first: false }),
  ]);
  await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the flush applied' },
  );
  await eventually(stale, (n) => n === staleBefore + 1, { what: 'the refresh counted stale' });
  expect((await liveBindings(h.pool, realm)).map((r) => r.username)).toEqual(['9002']);
  expect((await history(h.pool, realm)).map((x) => [x.username, x.end_reason])).toEqual([
    ['9001', 'flushed'],
  ]);
});
