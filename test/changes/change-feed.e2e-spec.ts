// The change feed: every binding change recorded with the change itself (outbox), relayed to
// exchange registrations.changes in order, and streamed as resumable Server-Sent Events.
import * as amqp from 'amqplib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AccountStore, CredentialStore } from '@app/persistence';
import { connectTestBroker } from '../support/amqp';
import { ChangeMsg, subscribe } from '../support/change-feed';
import { startApiApp, startIngestApp } from '../support/apps';
import { eventually } from '../support/poll';
import { startIngest, Harness } from '../support/ingest-harness';
import { accountIdOf, kazoo, kazooFlush, nowS } from '../support/messages';
import { SseClient } from '../support/sse-client';
import { testConfig } from '../support/test-env';

let h: Harness;
let conn: amqp.ChannelModel;
beforeAll(async () => {
  h = await startIngest();
  conn = await connectTestBroker();
});
afterAll(async () => {
  await conn.close();
  await h.stop();
});

it('a subscriber sees every change of a scenario, in order per binding, with the Kazoo item', async () => {
  const realm = 'feed.example.net';
  const account = accountIdOf(realm);
  const got = await subscribe(conn, `*.${account}.#`);
  const ts = nowS();
  await h.broker.publish([
    kazoo({ realm, username: 'a', contact: '<sip:a@10.0.0.1:5060>', callId: 'ca', ts }),
    kazoo({ realm, username: 'b', contact: '<sip:b@10.0.0.2:5060>', callId: 'cb', ts }),
    kazoo({
      realm,
      username: 'a',
      contact: '<sip:a@10.0.0.1:5060>',
      callId: 'ca',
      ts: ts + 1,
      first: false,
    }), // refresh: not in the feed by default
    kazoo({ realm, username: 'a', contact: '<sip:a@10.9.9.9:5070>', callId: 'ca', ts: ts + 2 }), // same Call-ID, new contact
    kazoo({
      realm,
      username: 'b',
      contact: '<sip:b@10.0.0.2:5060>',
      callId: 'cb',
      ts: ts + 3,
      expires: 0,
    }),
    kazoo({
      realm,
      username: 'c',
      contact: '<sip:c@10.0.0.3:5060>',
      callId: 'cc',
      ts: ts + 3,
      expires: 1,
    }),
  ]);
  await h.broker.publish([kazooFlush(realm, 'a')]);
  const expected = [
    ['a', 'sip:a@10.0.0.1:5060', 'registered'],
    ['b', 'sip:b@10.0.0.2:5060', 'registered'],
    ['a', 'sip:a@10.9.9.9:5070', 'registered'],
    ['a', 'sip:a@10.0.0.1:5060', 'replaced'],
    ['b', 'sip:b@10.0.0.2:5060', 'unregistered'],
    ['c', 'sip:c@10.0.0.3:5060', 'registered'],
    ['a', 'sip:a@10.9.9.9:5070', 'flushed'],
    ['c', 'sip:c@10.0.0.3:5060', 'expired'],
  ];
  await eventually(
    async () => got.length,
    (n) => n >= expected.length,
    { timeoutMs: 20_000, what: 'all changes on the bus' },
  );
  const perBinding = (rows: string[][]) => {
    const m = new Map<string, string[]>();
    for (const [u, c, change] of rows) m.set(`${u} ${c}`, [...(m.get(`${u} ${c}`) ?? []), change]);
    return m;
  };
  const seen = got.map((g) => [
    String(g.msg.registration.username),
    String(g.msg.registration.contact),
    g.msg.change,
  ]);
  expect(perBinding(seen)).toEqual(perBinding(expected));
  // Sequence numbers only grow, in publish order.
  const seqs = got.map((g) => g.msg.seq);
  expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
  // The first change of user a (the queue's first message). Lanes (docs/design.md) commit
  // different AORs in any order: the feed keeps each binding's order, not the queue's.
  const first = got.find((g) => g.msg.registration.username === 'a')!;
  expect(first.key).toBe(`registered.${account}.feed%2Eexample%2Enet.a`);
  expect(first.msg).toMatchObject({
    change: 'registered',
    account_id: account,
    registration: { username: 'a', realm, call_id: 'ca', contact_ip: '10.0.0.1' },
  });
  expect(new Date(first.msg.occurred_at).getTime()).toBe(ts * 1000);
});

it('the relay down between commit and publish loses nothing: a restarted ingest publishes it all, in order', async () => {
  await h.ingest.app.close();
  const paused = await startIngestApp(testConfig({ CHANGE_RELAY_ENABLED: 'false' }));
  const realm = 'relay.example.net';
  const got = await subscribe(conn, `*.${accountIdOf(realm)}.#`);
  const ts = nowS();
  await h.broker.publish(
    Array.from({ length: 30 }, (_, i) => kazoo({ realm, username: `r${i}`, ts })),
  );
  const pending = await eventually(
    () =>
      h.pool
        .query(
          `SELECT count(*)::int AS n FROM registration_changes WHERE realm = $1 AND seq > (SELECT published_through FROM registration_changes_relay)`,
          [realm],
        )
        .then((r) => r.rows[0].n as number),
    (n) => n === 30,
    { what: '30 committed, unpublished changes' },
  );
  expect(pending).toBe(30);
  expect(got).toHaveLength(0);
  await paused.app.close(); // the "crash": committed, never published
  h.ingest = await startIngestApp(testConfig());
  await eventually(
    async () => got.length,
    (n) => n === 30,
    { what: 'the 30 changes after restart' },
  );
  const seqs = got.map((g) => g.msg.seq);
  expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
  expect(new Set(got.map((g) => g.msg.registration.username)).size).toBe(30);
});

it('a backlog of several reads and passes reaches a subscriber in seq order, each change once, no gap, across a relay restart', async () => {
  // More than a pass of the relay (5,000 changes, read 500 at a time): its chunks are published
  // while the broker confirms the previous ones, and the position moves once per pass.
  const n = 6_000;
  await h.ingest.app.close();
  const paused = await startIngestApp(testConfig({ CHANGE_RELAY_ENABLED: 'false' }));
  const from = (
    await h.pool.query<{ seq: string }>(
      `SELECT coalesce(max(seq), 0)::text AS seq FROM registration_changes`,
    )
  ).rows[0].seq;
  const realm = 'backlog.example.net';
  const got = await subscribe(conn, `*.${accountIdOf(realm)}.#`);
  const ts = nowS();
  await h.broker.publish(
    Array.from({ length: n }, (_, i) => kazoo({ realm, username: `b${i}`, ts })),
  );
  const recorded = async () =>
    (
      await h.pool.query<{ seq: string }>(
        `SELECT seq FROM registration_changes WHERE seq > $1 AND realm = $2 ORDER BY seq`,
        [from, realm],
      )
    ).rows.map((r) => Number(r.seq));
  await eventually(recorded, (s) => s.length === n, {
    timeoutMs: 60_000,
    what: `${n} committed, unpublished changes`,
  });
  await paused.app.close();
  // The relay starts on the backlog and is stopped as soon as it published some of it (the
  // pass in progress ends first), then another instance publishes the rest.
  const first = await startIngestApp(testConfig());
  await eventually(
    async () => got.length,
    (k) => k > 0,
    { what: 'the first published changes' },
  );
  await first.app.close();
  h.ingest = await startIngestApp(testConfig());
  await eventually(
    async () => got.length,
    (k) => k >= n,
    { timeoutMs: 60_000, what: `all ${n} changes on the bus` },
  );
  // Exactly the recorded changes, in their order: none missing, none twice, none overtaken.
  expect(got.map((g) => g.msg.seq)).toEqual(await recorded());
});

describe('Server-Sent Events', () => {
  let api: { app: NestFastifyApplication; url: string };
  const realmA = 'sse-a.example.net';
  const realmB = 'sse-b.example.net';
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    api = await startApiApp(testConfig());
    const accounts = api.app.get(AccountStore);
    const credentials = api.app.get(CredentialStore);
    for (const realm of [realmA, realmB]) {
      await accounts.createOrAdopt({ id: accountIdOf(realm), name: realm, realm });
      const key = await credentials.createApiKey(accountIdOf(realm));
      const res = await fetch(`${api.url}/v2/api_auth`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { api_key: key } }),
      });
      tokens[realm] = ((await res.json()) as { auth_token: string }).auth_token;
    }
  });
  afterAll(async () => {
    await api.app.close();
  });

  const url = (realm: string, q = '') =>
    `${api.url}/v2/accounts/${accountIdOf(realm)}/registrations/changes${q}`;

  it('snapshot, then live changes; resumed with Last-Event-ID it gets exactly what it missed; accounts never mix', async () => {
    const ts = nowS();
    await h.broker.publish([
      kazoo({ realm: realmA, username: 'live1', ts }),
      kazoo({ realm: realmB, username: 'other', ts }),
    ]);
    await eventually(
      () =>
        h.pool
          .query(`SELECT count(*)::int AS n FROM registration_changes WHERE realm IN ($1, $2)`, [
            realmA,
            realmB,
          ])
          .then((r) => r.rows[0].n as number),
      (n) => n === 2,
    );
    // EventSource style: the token as a query parameter.
    const first = new SseClient(url(realmA, `?auth_token=${tokens[realmA]}`));
    await first.open();
    expect(first.status).toBe(200);
    await eventually(
      async () => first.events.map((e) => e.event),
      (ev) => ev.includes('snapshot-complete'),
      { what: 'the snapshot' },
    );
    const snapshot = first.events
      .filter((e) => e.event === 'snapshot')
      .map((e) => JSON.parse(e.data) as Record<string, unknown>);
    expect(snapshot.map((s) => s.username)).toEqual(['live1']);
    expect(
      first.events.filter((e) => e.event === 'snapshot').every((e) => e.id === undefined),
    ).toBe(true);

    await h.broker.publish([
      kazoo({ realm: realmA, username: 'live2', ts: ts + 1 }),
      kazoo({ realm: realmB, username: 'other2', ts: ts + 1 }),
    ]);
    await eventually(
      async () => first.events.filter((e) => e.event === 'registered').length,
      (n) => n === 1,
      { what: 'a live change' },
    );
    await first.close(); // connection drops
    const resumeFrom = first.lastId!;

    // Missed while disconnected: in A two changes, in B one.
    await h.broker.publish([
      kazoo({ realm: realmA, username: 'live1', ts: ts + 2, expires: 0 }),
      kazoo({ realm: realmA, username: 'live3', ts: ts + 2 }),
      kazoo({ realm: realmB, username: 'other3', ts: ts + 2 }),
    ]);
    await eventually(
      () =>
        h.pool
          .query(`SELECT count(*)::int AS n FROM registration_changes WHERE realm = $1`, [realmA])
          .then((r) => r.rows[0].n as number),
      (n) => n === 4,
    );
    const resumed = new SseClient(url(realmA), {
      'x-auth-token': tokens[realmA],
      'last-event-id': resumeFrom,
    });
    await resumed.open();
    await eventually(
      async () => resumed.events.length,
      (n) => n >= 2,
      { what: 'the missed changes' },
    );
    await new Promise((r) => setTimeout(r, 600)); // would anything extra (a repeat, a snapshot) follow?
    await resumed.close();
    const missed = await h.pool.query(
      `SELECT seq::text, change, item->>'username' AS username FROM registration_changes WHERE account_id = $1 AND seq > $2 ORDER BY seq`,
      [accountIdOf(realmA), resumeFrom],
    );
    expect(
      resumed.events.map((e) => [
        e.id,
        e.event,
        (JSON.parse(e.data) as ChangeMsg).registration.username,
      ]),
    ).toEqual(missed.rows.map((r) => [r.seq, r.change, r.username]));
    // live1's end and live3's start, in seq order (above); two AORs, so in either order (lanes).
    expect(resumed.events.map((e) => e.event).sort()).toEqual(['registered', 'unregistered']);
    // With the account's name and realm, as on the exchange (account-in-feed.e2e-spec).
    for (const e of resumed.events)
      expect((JSON.parse(e.data) as ChangeMsg).registration).toMatchObject({
        account_name: realmA,
        account_realm: realmA,
      });
    // Nothing of account B ever appears in A's stream.
    for (const e of [...first.events, ...resumed.events]) expect(e.data).not.toContain(realmB);
  });

  it('a browser EventSource from another origin (Monster UI) is allowed: CORS headers on the stream', async () => {
    const abort = new AbortController();
    const res = await fetch(url(realmA, `?auth_token=${tokens[realmA]}`), {
      headers: { accept: 'text/event-stream', origin: 'http://monster-ui.example.net' },
      signal: abort.signal,
    });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(res.headers.get('access-control-allow-origin')).toMatch(
        /^(\*|http:\/\/monster-ui\.example\.net)$/,
      );
      expect(res.headers.get('x-request-id')).toMatch(/^\S+$/);
    } finally {
      abort.abort();
      await res.body?.cancel().catch(() => undefined);
    }
  });

  it('refuses a foreign account, and a position older than retention with a clear error', async () => {
    const foreign = new SseClient(url(realmB), { 'x-auth-token': tokens[realmA] });
    await foreign.open();
    expect(foreign.status).toBe(403);
    await h.pool.query(
      `UPDATE registration_changes_horizon SET pruned_through = 1000000 WHERE id = 1`,
    );
    try {
      const res = await fetch(url(realmA, '?since=5'), {
        headers: { 'x-auth-token': tokens[realmA] },
      });
      expect(res.status).toBe(410);
      const body = (await res.json()) as { message: string; data: { message: string } };
      expect(body.message).toBe('position_expired');
      expect(body.data.message).toMatch(/fresh snapshot/);
    } finally {
      await h.pool.query(`UPDATE registration_changes_horizon SET pruned_through = 0 WHERE id = 1`);
    }
  });
});
