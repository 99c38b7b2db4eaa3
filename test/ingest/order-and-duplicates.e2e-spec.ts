// A stale event (redelivered or reordered) never resurrects or rolls back a binding, and
// redelivered duplicates are harmless.
import { randomUUID } from 'node:crypto';
import { eventually } from '../support/poll';
import { history, liveBindings } from '../support/database';
import { startIngest, Harness } from '../support/ingest-harness';
import { kazoo, nowS } from '../support/messages';
import { fetchMetricSum } from '../../scripts/support/prometheus-text';

let h: Harness;
beforeAll(async () => {
  h = await startIngest();
});
afterAll(async () => {
  await h.stop();
});

const eventsTotal = () => fetchMetricSum(h.ingest.url, 'registrations_events_total');
const processed = async (n: number) =>
  eventually(eventsTotal, (total) => total >= n, { what: `${n} events processed` });

it('a redelivered duplicate and an older refresh change nothing', async () => {
  const realm = 'dup.example.net';
  const ts = nowS();
  const first = kazoo({ realm, username: '1', ts, msgId: randomUUID() });
  await h.broker.publish([first, kazoo({ realm, username: '1', ts: ts + 2, first: false })]);
  const [before] = await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r[0]?.refresh_count === 1,
  );
  await h.broker.publish([first, first, kazoo({ realm, username: '1', ts: ts + 1, first: false })]);
  await processed(5);
  const [after] = await liveBindings(h.pool, realm);
  expect(after.refresh_count).toBe(1);
  expect(after.event_us).toBe(before.event_us);
  expect(after.last_registered_at).toEqual(before.last_registered_at);
});

it('a late register after the unregister does not resurrect the binding', async () => {
  const realm = 'late.example.net';
  const ts = nowS();
  await h.broker.publish([
    kazoo({ realm, username: '1', ts }),
    kazoo({ realm, username: '1', ts: ts + 2, expires: 0 }),
  ]);
  await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 1,
  );
  await h.broker.publish([kazoo({ realm, username: '1', ts: ts + 1, first: false })]);
  await processed(8);
  expect(await liveBindings(h.pool, realm)).toEqual([]);
  expect(await history(h.pool, realm)).toHaveLength(1);
});

it('an unregister that overtakes its register leaves the binding ended', async () => {
  const realm = 'overtaken.example.net';
  const ts = nowS();
  await h.broker.publish([
    kazoo({ realm, username: '1', ts: ts + 1, expires: 0 }),
    kazoo({ realm, username: '1', ts }),
  ]);
  await processed(10);
  expect(await liveBindings(h.pool, realm)).toEqual([]);
});

it('any arrival order of each binding’s events ends in the state of its newest event', async () => {
  const realm = 'shuffle.example.net';
  const ts = nowS();
  const expected = new Map<string, boolean>();
  const messages = [];
  for (let i = 0; i < 150; i++) {
    const username = `u${i}`;
    const unregisters = i % 3 === 0;
    const seq = [
      kazoo({ realm, username, ts }),
      kazoo({ realm, username, ts: ts + 1, first: false }),
      kazoo({ realm, username, ts: ts + 2, first: false }),
    ];
    if (unregisters) seq.push(kazoo({ realm, username, ts: ts + 3, expires: 0 }));
    expected.set(username, !unregisters);
    messages.push(...seq);
  }
  // Deterministic shuffle (xorshift) so a failure can be replayed.
  let x = 2463534242;
  const rnd = () => ((x ^= x << 13), (x ^= x >>> 17), (x ^= x << 5), (x >>> 0) / 2 ** 32);
  for (let i = messages.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [messages[i], messages[j]] = [messages[j], messages[i]];
  }
  await h.broker.publish(messages);
  await processed(10 + messages.length);
  const live = new Set((await liveBindings(h.pool, realm)).map((r) => r.username));
  for (const [username, shouldLive] of expected)
    expect([username, live.has(username)]).toEqual([username, shouldLive]);
  const newest = await h.pool.query(
    `SELECT count(*)::int AS n FROM registrations WHERE realm_key = $1 AND event_us <> $2`,
    [realm, (ts + 2) * 1e6],
  );
  // Live ones carry their newest refresh; ended ones their unregister.
  expect(newest.rows[0].n).toBe([...expected.values()].filter((v) => !v).length);
});

it('a register and unregister of one second, redelivered, change nothing; nor does the register redelivered alone', async () => {
  // Kamailio stamps whole seconds: only the Msg-IDs tell these were applied already.
  const realm = 'same-second.example.net';
  const ts = nowS();
  const reg = kazoo({ realm, username: '1', ts });
  const unreg = kazoo({ realm, username: '1', ts, expires: 0 });
  await h.broker.publish([reg, unreg]);
  await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the unregister applied' },
  );
  const changes = async () =>
    Number(
      (
        await h.pool.query(
          `SELECT count(*)::int AS n FROM registration_changes WHERE lower(realm) = $1`,
          [realm],
        )
      ).rows[0].n,
    );
  const changesBefore = await changes();
  const total = await eventsTotal();
  await h.broker.publish([reg, unreg, reg]);
  await processed(total + 3);
  expect(await liveBindings(h.pool, realm)).toEqual([]);
  expect(await history(h.pool, realm)).toHaveLength(1);
  expect(await changes()).toBe(changesBefore);
});
