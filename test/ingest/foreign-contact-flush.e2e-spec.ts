// A reg_flush published by another system (another instance of this service, an operator's
// script) that names one phone of a user: `Call-ID`, else `Contact`, our extension of Kazoo's
// message (libs/messaging regFlush; docs/sipxcom-compatibility.md). The Kamailio route that
// reads them (test/kamailio/kamailio.cfg.tmpl, route[FLUSH_CONTACT]) removes only that contact,
// so the store ends only that binding. And a reg_flush without a Msg-ID, delivered twice with
// the same AMQP timestamp (what a redelivery looks like), is applied once.
import { eventually } from '../support/poll';
import { history, liveBindings, realmChanges } from '../support/database';
import { startIngest, Harness } from '../support/ingest-harness';
import type { Outgoing } from '../support/amqp';
import { kazoo, kazooFlush, nowS } from '../support/messages';
import { fetchMetricSum } from '../../scripts/support/prometheus-text';

let h: Harness;
beforeAll(async () => {
  h = await startIngest({ SWEEP_INTERVAL_MS: '600000' });
});
afterAll(async () => {
  await h?.stop();
});

const flushesApplied = () =>
  fetchMetricSum(h.ingest.url, 'registrations_events_total{kind="flush",origin="kazoo"}');

/** Two phones of one user (desk, soft), registered and live. */
async function twoPhones(realm: string, user: string, ts: number): Promise<void> {
  await h.broker.publish([
    kazoo({ realm, username: user, ts, callId: 'desk-1', contact: `<sip:${user}@10.9.0.1:5060>` }),
    kazoo({ realm, username: user, ts, callId: 'soft-1', contact: `<sip:${user}@10.9.0.2:5062>` }),
  ]);
  await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 2,
    { what: 'both phones live' },
  );
}

it('a reg_flush naming one Call-ID ends that phone only: the other phone of the AOR stays', async () => {
  const realm = 'one-call.foreign-flush.test';
  await twoPhones(realm, '3101', nowS() - 5);
  await h.broker.publish([kazooFlush(realm, '3101', { callId: 'desk-1' })]);
  await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the desk phone flushed' },
  );
  const live = await liveBindings(h.pool, realm);
  expect(live.map((r) => r.call_id)).toEqual(['soft-1']);
  expect((await history(h.pool, realm)).map((x) => [x.username, x.end_reason])).toEqual([
    ['3101', 'flushed'],
  ]);
  // The change feed says so, as for any flush.
  const feed = await eventually(
    () => realmChanges(h.pool, realm),
    (c) => c.length === 3,
    { what: 'three changes recorded' },
  );
  expect(feed.slice(2)).toEqual([['3101', 'flushed', 'desk-1']]);
});

it('a reg_flush naming a contact (no Call-ID) ends the binding with that contact URI only', async () => {
  const realm = 'one-contact.foreign-flush.test';
  await twoPhones(realm, '3201', nowS() - 5);
  await h.broker.publish([kazooFlush(realm, '3201', { contact: 'sip:3201@10.9.0.2:5062' })]);
  await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the soft phone flushed' },
  );
  expect((await liveBindings(h.pool, realm)).map((r) => r.call_id)).toEqual(['desk-1']);
});

it('a reg_flush naming a Call-ID no binding of the AOR has ends nothing (not the whole AOR)', async () => {
  const realm = 'no-match.foreign-flush.test';
  await twoPhones(realm, '3301', nowS() - 5);
  const before = await flushesApplied();
  await h.broker.publish([kazooFlush(realm, '3301', { callId: 'gone-1' })]);
  await eventually(flushesApplied, (n) => n >= before + 1, { what: 'the flush processed' });
  expect(await liveBindings(h.pool, realm)).toHaveLength(2);
  expect(await history(h.pool, realm)).toEqual([]);
});

it('a reg_flush without a Msg-ID delivered again (same content, same AMQP timestamp) is applied once: the phone registered since stays', async () => {
  const realm = 'no-msg-id.foreign-flush.test';
  const t = nowS() - 20;
  await h.broker.publish([kazoo({ realm, username: '3401', ts: t, callId: 'c-1' })]);
  await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the phone registered' },
  );
  const flush = kazooFlush(realm, '3401', { msgId: null });
  const stampS = t + 2;
  await publishStamped(flush, stampS);
  await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 1,
    { what: 'the flush applied' },
  );
  // The phone registers again, then the flush comes again as a redelivery would: same bytes,
  // same AMQP timestamp. It must not end the new binding.
  await h.broker.publish([kazoo({ realm, username: '3401', ts: t + 5, callId: 'c-2' })]);
  await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 1 && r[0].call_id === 'c-2',
    { what: 'the phone registered again' },
  );
  const duplicates = () =>
    fetchMetricSum(h.ingest.url, 'registrations_ignored_events_total{why="duplicate"}');
  const dupBefore = await duplicates();
  await publishStamped(flush, stampS);
  await eventually(duplicates, (n) => n >= dupBefore + 1, { what: 'the flush recognised' });
  expect((await liveBindings(h.pool, realm)).map((r) => r.call_id)).toEqual(['c-2']);
  expect(await history(h.pool, realm)).toHaveLength(1);

  // The same flush published in a later second (after the re-registration) is another flush.
  await publishStamped(flush, t + 10);
  await eventually(
    () => history(h.pool, realm),
    (r) => r.length === 2,
    { what: 'the later flush applied' },
  );
  expect(await liveBindings(h.pool, realm)).toEqual([]);
});

async function publishStamped(m: Outgoing, timestampS: number): Promise<void> {
  h.broker.ch.publish(m.exchange, m.routingKey, Buffer.from(JSON.stringify(m.body)), {
    persistent: true,
    contentType: 'application/json',
    timestamp: timestampS,
  });
  await h.broker.ch.waitForConfirms();
}
