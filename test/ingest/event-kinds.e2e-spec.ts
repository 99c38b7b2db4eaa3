// Every event kind of both formats, through the real RabbitMQ into the real Postgres.
import { eventually } from '../support/poll';
import { history, liveBindings } from '../support/database';
import { startIngest, Harness } from '../support/ingest-harness';
import { fixture, freeswitch, kazoo, kazooFlush, nowS } from '../support/messages';
import { keys } from '@app/messaging';

let h: Harness;
beforeAll(async () => {
  h = await startIngest();
});
afterAll(async () => {
  await h.stop();
});

const REALM1 = 'realm01.harness.test';

describe('Kazoo reg_success (captured from a real Kamailio)', () => {
  it('register, refresh and unregister as Kamailio published them', async () => {
    const register = fixture('register');
    const refresh = fixture('refresh');
    // Move the capture to now so the binding is live (the capture's own time is in the past).
    const ts = nowS();
    await h.broker.publish([
      {
        exchange: 'registrar',
        routingKey: keys.regSuccess(REALM1, 'user0001'),
        body: { ...register, 'Event-Timestamp': ts },
      },
    ]);
    const [row] = await eventually(
      () => liveBindings(h.pool, REALM1),
      (r) => r.length === 1,
      { what: 'the registered phone' },
    );
    expect(row).toMatchObject({
      realm: REALM1,
      username: 'user0001',
      contact_uri: 'sip:user0001@127.0.0.1:5070;transport=UDP',
      original_contact: '<sip:user0001@127.0.0.1:5070;transport=UDP>',
      contact_ip: '127.0.0.1',
      contact_port: 5070,
      call_id: 'user-1@harness',
      user_agent: 'harness-sipp/3.6.1 (kazoo-registrar-harness)',
      account_id: '189eebbeb7e252d633636ce66f127817',
      authorizing_id: 'ae17b8d87914bfc1ff60d214b4832767',
      authorizing_type: 'device',
      proxy_path: 'sip:127.0.0.1:5060;transport=udp',
      proxy_ip: '127.0.0.1',
      proxy_port: 5060,
      proxy_protocol: 'udp',
      source_ip: '127.0.0.1',
      source_port: 5070,
      registrar_node: 'kamailio@harness.kamailio',
      expires: 600,
      refresh_count: 0,
      origin: 'kazoo',
    });

    await h.broker.publish([
      {
        exchange: 'registrar',
        routingKey: keys.regSuccess(REALM1, 'user0001'),
        body: { ...refresh, 'Event-Timestamp': ts + 1 },
      },
    ]);
    const [refreshed] = await eventually(
      () => liveBindings(h.pool, REALM1),
      (r) => r[0]?.refresh_count === 1,
      { what: 'the refresh' },
    );
    expect(refreshed.first_registered_at).toEqual(row.first_registered_at);

    const accounts = await h.pool.query('SELECT id, realm FROM accounts');
    expect(accounts.rows).toEqual([{ id: '189eebbeb7e252d633636ce66f127817', realm: REALM1 }]);

    await h.broker.publish([
      kazoo({
        realm: REALM1,
        username: 'user0001',
        contact: '<sip:user0001@127.0.0.1:5070;transport=UDP>',
        callId: 'user-1@harness',
        expires: 0,
        ts: ts + 2,
      }),
    ]);
    await eventually(
      () => liveBindings(h.pool, REALM1),
      (r) => r.length === 0,
      { what: 'the unregister' },
    );
    const ended = await history(h.pool, REALM1);
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({
      username: 'user0001',
      end_reason: 'unregistered',
      refresh_count: 1,
    });
  });

  it('the captured unregister (Expires 0, Status Unregistered) ends a live binding', async () => {
    const realm = 'realm03.harness.test';
    const unregister = fixture('unregister');
    const ts = nowS();
    await h.broker.publish([
      kazoo({
        realm,
        username: 'user0003',
        contact: unregister.Contact as string,
        callId: 'user-3@harness',
        ts,
        accountId: '9cee7e08431d642f9559677b6fc85869',
      }),
    ]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 1,
    );
    await h.broker.publish([
      {
        exchange: 'registrar',
        routingKey: keys.regSuccess(realm, 'user0003'),
        body: { ...unregister, 'Event-Timestamp': ts + 1 },
      },
    ]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 0,
      { what: 'user0003 unregistered' },
    );
    expect((await history(h.pool, realm)).map((x) => x.end_reason)).toEqual(['unregistered']);
  });

  it('several phones on one AOR are separate bindings; realm and username compare without case', async () => {
    const realm = 'multi.example.net';
    const ts = nowS();
    await h.broker.publish([
      kazoo({ realm, username: '2001', contact: '<sip:2001@10.0.0.1:5060>', callId: 'desk', ts }),
      kazoo({
        realm: 'MULTI.example.NET',
        username: '2001',
        contact: '<sip:2001@10.0.0.2:5060>',
        callId: 'mobile',
        ts,
      }),
    ]);
    const rows = await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 2,
      { what: 'two bindings' },
    );
    expect(rows.map((r) => r.call_id).sort()).toEqual(['desk', 'mobile']);
    // The same binding in another case is a refresh, not a third binding.
    await h.broker.publish([
      kazoo({
        realm: 'Multi.Example.Net',
        username: '2001',
        contact: '<sip:2001@10.0.0.1:5060>',
        callId: 'desk',
        ts: ts + 1,
        first: false,
      }),
    ]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 2 && r.some((x) => x.refresh_count === 1),
    );
  });

  it('the same Call-ID back with another contact replaces the old binding', async () => {
    const realm = 'moving.example.net';
    const ts = nowS();
    await h.broker.publish([
      kazoo({
        realm,
        username: '3001',
        contact: '<sip:3001@192.0.2.1:5060>',
        callId: 'roam-1',
        ts,
      }),
    ]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 1,
    );
    await h.broker.publish([
      kazoo({
        realm,
        username: '3001',
        contact: '<sip:3001@192.0.2.99:5070>',
        callId: 'roam-1',
        ts: ts + 1,
      }),
    ]);
    const rows = await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 1 && r[0].contact_uri.includes('192.0.2.99'),
      { what: 'the new contact alone' },
    );
    expect(rows[0].contact_uri).toBe('sip:3001@192.0.2.99:5070');
    // The replaced binding was stored by an earlier batch: its history row is the whole binding
    // as it was, not just the fields that decided its end.
    const { rows: storedBefore } = await h.pool.query(
      `SELECT * FROM registration_history WHERE realm_key = $1`,
      [realm],
    );
    expect(storedBefore).toEqual([
      expect.objectContaining({
        contact_uri: 'sip:3001@192.0.2.1:5060',
        end_reason: 'replaced',
        original_contact: '<sip:3001@192.0.2.1:5060>',
        origin: 'kazoo',
        realm,
        username: '3001',
        call_id: 'roam-1',
        contact_ip: '192.0.2.1',
        contact_port: 5060,
        user_agent: expect.any(String),
        from_user: '3001',
        to_host: realm,
        expires: 0,
      }),
    ]);
  });

  it('a reg_flush from another system ends the realm’s bindings (flushed), and a phone registering again reappears', async () => {
    const realm = 'flushed.example.net';
    const ts = nowS() - 5;
    await h.broker.publish([
      kazoo({ realm, username: '4001', ts }),
      kazoo({ realm, username: '4002', ts }),
      kazoo({ realm: 'kept.example.net', username: '4001', ts }),
    ]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 2,
    );
    await h.broker.publish([kazooFlush(realm, '4001')]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 1 && r[0].username === '4002',
      { what: 'one AOR flushed' },
    );
    await h.broker.publish([kazooFlush(realm)]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 0,
      { what: 'the whole realm flushed' },
    );
    expect((await history(h.pool, realm)).map((x) => x.end_reason)).toEqual(['flushed', 'flushed']);
    expect(await liveBindings(h.pool, 'kept.example.net')).toHaveLength(1);
    await h.broker.publish([kazoo({ realm, username: '4001', ts: nowS() + 1 })]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 1,
      { what: 'the phone back after the flush' },
    );
  });
});

describe('accounts', () => {
  it('an event without Custom-Channel-Vars belongs to the account whose realm matches; an unknown realm is kept unassigned and claimed later', async () => {
    const ts = nowS();
    await h.broker.publish([
      kazoo({ realm: REALM1, username: 'nocv', ts, accountId: null }),
      kazoo({ realm: 'nobody.example.net', username: '5001', ts, accountId: null }),
    ]);
    const [owned] = await eventually(
      () => liveBindings(h.pool, REALM1).then((r) => r.filter((x) => x.username === 'nocv')),
      (r) => r.length === 1,
    );
    expect(owned.account_id).toBe('189eebbeb7e252d633636ce66f127817');
    const [orphan] = await eventually(
      () => liveBindings(h.pool, 'nobody.example.net'),
      (r) => r.length === 1,
    );
    expect(orphan.account_id).toBeNull();
    const metrics = await fetch(`${h.ingest.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/registrations_unassigned_events_total [1-9]/);

    // The account appears (its own events name it): the orphaned binding and extension join it.
    await h.broker.publish([
      kazoo({
        realm: 'nobody.example.net',
        username: '5002',
        ts: ts + 1,
        accountId: 'abcdefabcdefabcdefabcdefabcdef01',
      }),
    ]);
    await eventually(
      () => liveBindings(h.pool, 'nobody.example.net'),
      (r) => r.length === 2 && r.every((x) => x.account_id === 'abcdefabcdefabcdefabcdefabcdef01'),
      { what: 'the unassigned binding claimed by the new account' },
    );
    const ext = await h.pool.query(
      `SELECT username, account_id FROM extensions WHERE realm_key = 'nobody.example.net' ORDER BY id`,
    );
    expect(ext.rows).toEqual([
      { username: '5001', account_id: 'abcdefabcdefabcdefabcdefabcdef01' },
      { username: '5002', account_id: 'abcdefabcdefabcdefabcdefabcdef01' },
    ]);
  });

  it('extensions get a stable integer id on first sight', async () => {
    const ts = nowS();
    await h.broker.publish([kazoo({ realm: 'ext.example.net', username: '100', ts })]);
    const first = await eventually(
      () =>
        h.pool
          .query(
            `SELECT id FROM extensions WHERE realm_key = 'ext.example.net' AND username_key = '100'`,
          )
          .then((r) => r.rows),
      (r) => r.length === 1,
    );
    await h.broker.publish([
      kazoo({ realm: 'ext.example.net', username: '100', ts: ts + 1, expires: 0 }),
      kazoo({ realm: 'ext.example.net', username: '100', ts: ts + 2 }),
    ]);
    await eventually(
      () =>
        h.pool
          .query(
            `SELECT count(*)::int AS n FROM registration_history WHERE realm_key = 'ext.example.net'`,
          )
          .then((r) => r.rows[0].n),
      (n) => n === 1,
    );
    const again = await h.pool.query(
      `SELECT id FROM extensions WHERE realm_key = 'ext.example.net'`,
    );
    expect(again.rows).toEqual(first);
  });
});

it('a user whose whole life falls in one batch still gets an extension id', async () => {
  const ts = nowS();
  await h.broker.publish([
    kazoo({ realm: 'brief.example.net', username: 'blink', ts }),
    kazoo({ realm: 'brief.example.net', username: 'blink', ts: ts + 1, expires: 0 }),
  ]);
  await eventually(
    () =>
      h.pool
        .query(
          `SELECT count(*)::int AS n FROM registration_history WHERE realm_key = 'brief.example.net'`,
        )
        .then((r) => r.rows[0].n as number),
    (n) => n === 1,
  );
  const ext = await h.pool.query(
    `SELECT username FROM extensions WHERE realm_key = 'brief.example.net'`,
  );
  expect(ext.rows).toEqual([{ username: 'blink' }]);
});

describe('FreeSWITCH sofia events', () => {
  const realm = 'fs.example.net';
  it('register, refresh, unregister and expire', async () => {
    const us = Date.now() * 1000;
    await h.broker.publish([
      freeswitch({ subclass: 'sofia::register', realm, username: '1001', us }),
      freeswitch({
        subclass: 'sofia::register',
        realm,
        username: '1002',
        us,
        callId: 'c-1002',
        contact: '<sip:1002@192.168.1.51:5062>',
      }),
    ]);
    const rows = await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 2,
      { what: 'two FreeSWITCH registrations' },
    );
    expect(rows[0]).toMatchObject({
      username: '1001',
      contact_uri: 'sip:1001@192.168.1.50:5062;transport=udp',
      source_ip: '203.0.113.7',
      source_port: 40001,
      network_ip: '203.0.113.7',
      registrar_node: 'fs1.example.net',
      fs_profile: 'internal',
      fs_hostname: 'fs1.example.net',
      proxy_protocol: 'udp',
      origin: 'freeswitch',
      user_agent: 'Yealink SIP-T46G 66.86.0.15',
    });
    await h.broker.publish([
      freeswitch({
        subclass: 'sofia::register',
        realm,
        username: '1001',
        us: us + 1000,
        refresh: true,
      }),
    ]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.find((x) => x.username === '1001')?.refresh_count === 1,
      { what: 'the refresh' },
    );
    await h.broker.publish([
      freeswitch({ subclass: 'sofia::unregister', realm, username: '1001', us: us + 2000 }),
      freeswitch({
        subclass: 'sofia::expire',
        realm,
        username: '1002',
        callId: 'c-1002',
        contact: '<sip:1002@192.168.1.51:5062>',
        us: us + 3000,
      }),
    ]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 0,
      { what: 'both ended' },
    );
    const ended = await history(h.pool, realm);
    // Two AORs: with lanes (INGEST_LANES > 1) their ends commit in either order.
    expect(ended.map((x) => [x.username, x.end_reason]).sort()).toEqual([
      ['1001', 'unregistered'],
      ['1002', 'expired'],
    ]);
  });
});

describe('expiry', () => {
  it('a binding past last refresh + Expires is not live before any sweep, and the sweeper ends it as expired', async () => {
    const realm = 'short.example.net';
    await h.broker.publish([kazoo({ realm, username: '6001', ts: nowS(), expires: 2 })]);
    await eventually(
      () => liveBindings(h.pool, realm),
      (r) => r.length === 1,
    );
    const swept = await eventually(
      () =>
        h.pool
          .query(
            `SELECT end_reason, ended_at = expires_at AS at_expiry FROM registration_history WHERE realm_key = $1`,
            [realm],
          )
          .then((r) => r.rows),
      (r) => r.length === 1,
      { timeoutMs: 10_000, what: 'the sweeper to end the binding' },
    );
    expect(swept).toEqual([{ end_reason: 'expired', at_expiry: true }]);
  });
});
