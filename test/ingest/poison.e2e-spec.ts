// Messages that can never be processed go to the dead-letter queue with the reason in a header,
// are not requeued, and do not block the messages behind them.
import { eventually } from '../support/poll';
import { liveBindings } from '../support/database';
import { T } from '../support/amqp';
import { startIngest, Harness } from '../support/ingest-harness';
import { freeswitch, kazoo, nowS } from '../support/messages';
import { keys, REJECT_REASON_HEADER } from '@app/messaging';

let h: Harness;
beforeAll(async () => {
  h = await startIngest();
});
afterAll(async () => {
  await h.stop();
});

it('dead-letters each poison message with its reason and commits the good ones around it', async () => {
  const realm = 'poison.example.net';
  const ts = nowS();
  const good = (u: string) => kazoo({ realm, username: u, ts });
  const bad = (body: unknown) => ({
    exchange: 'registrar',
    routingKey: keys.regSuccess(realm, 'x'),
    body: body as object,
  });
  const noRealm = kazoo({ realm, username: 'nr', ts }).body as Record<string, unknown>;
  delete noRealm.Realm;
  const badExpires = { ...(kazoo({ realm, username: 'be', ts }).body as object), Expires: 'soon' };
  const query = {
    ...(kazoo({ realm, username: 'q', ts }).body as object),
    'Event-Name': 'reg_query',
  };
  await h.broker.publish([
    good('1'),
    bad(Buffer.from('this is not json {')),
    good('2'),
    bad(noRealm),
    bad(badExpires),
    bad(query),
    good('3'),
    {
      ...freeswitch({ subclass: 'sofia::register', realm, username: 'fs', us: Date.now() * 1000 }),
      body: { 'Event-Name': 'CUSTOM', 'Event-Subclass': 'sofia::register' },
    },
    freeswitch({ subclass: 'sofia::register', realm, username: 'fs-good', us: Date.now() * 1000 }),
  ]);
  const rows = await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 4,
    { what: 'the four good messages' },
  );
  expect(rows.map((r) => r.username).sort()).toEqual(['1', '2', '3', 'fs-good']);
  const dead = await eventually(
    () => h.broker.queueDepth(T.deadLetterQueue.name),
    (n) => n === 5,
    { what: 'five dead letters' },
  );
  expect(dead).toBe(5);
  const letters = await h.broker.drain(T.deadLetterQueue.name);
  // The two queues are consumed independently: compare as a set.
  const reasons = letters.map((m) => String(m.properties.headers?.[REJECT_REASON_HEADER])).sort();
  expect(reasons).toEqual([
    'invalid_payload: Event-Date-Timestamp: required; contact: required',
    'invalid_payload: Expires: expected a number',
    'invalid_payload: Realm: required',
    expect.stringMatching(/^not_json: /),
    'unknown_event: Event-Name "reg_query" is not reg_success or reg_flush',
  ]);
  const notJson = letters.find((m) => m.content.toString() === 'this is not json {');
  expect(notJson?.properties.headers?.['x-original-exchange']).toBe('registrar');
  expect(notJson?.properties.headers?.['x-original-queue']).toBe(T.kazooQueue.name);
  // Nothing is left behind or requeued.
  expect(await h.broker.queueDepth(T.kazooQueue.name)).toBe(0);
  expect(await h.broker.queueDepth(T.freeswitchQueue.name)).toBe(0);
  const metrics = await fetch(`${h.ingest.url}/metrics`).then((r) => r.text());
  expect(metrics.split('\n')).toContain(
    `registrations_dead_lettered_total{queue="${T.kazooQueue.name}",reason="invalid_payload"} 2`,
  );
});

it('a realm, username or contact too long for the database is dead-lettered as value_too_long when parsed, never database_rejected', async () => {
  const realm = 'too-long.example.net';
  const ts = nowS();
  const huge = `${'a'.repeat(10_000)}.example.net`; // as the fault run sent it
  // (Routing keys of their own: an AMQP routing key holds 255 bytes at most.)
  const tooLong = (m: ReturnType<typeof kazoo>) => ({
    ...m,
    routingKey: keys.regSuccess(realm, 'long'),
  });
  await h.broker.publish([
    kazoo({ realm, username: 'ok-1', ts }),
    tooLong(kazoo({ realm: huge, username: 'x', ts })),
    tooLong(kazoo({ realm, username: 'u'.repeat(300), ts })),
    tooLong(
      kazoo({ realm, username: 'c', ts, contact: `<sip:c@${'h'.repeat(3000)}.example.net>` }),
    ),
    kazoo({ realm, username: 'ok-2', ts }),
  ]);
  const rows = await eventually(
    () => liveBindings(h.pool, realm),
    (r) => r.length === 2,
    { what: 'the two good messages' },
  );
  expect(rows.map((r) => r.username)).toEqual(['ok-1', 'ok-2']);
  await eventually(
    () => h.broker.queueDepth(T.deadLetterQueue.name),
    (n) => n === 3,
    { what: 'three dead letters' },
  );
  const letters = await h.broker.drain(T.deadLetterQueue.name);
  expect(letters.map((m) => String(m.properties.headers?.[REJECT_REASON_HEADER]))).toEqual([
    'value_too_long: the realm is 10012 bytes; at most 253 can be stored',
    'value_too_long: the username is 300 bytes; at most 256 can be stored',
    'value_too_long: the contact URI is 3018 bytes; at most 2048 can be stored',
  ]);
  const metrics = await fetch(`${h.ingest.url}/metrics`).then((r) => r.text());
  expect(metrics).toContain(
    `registrations_dead_lettered_total{queue="${T.kazooQueue.name}",reason="value_too_long"} 3`,
  );
  expect(metrics).not.toMatch(/reason="database_rejected"/);
});
