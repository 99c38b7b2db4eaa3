// Real phones (sipp) register with a real Kamailio (kazoo module), which publishes to the real
// ingest app; the Kazoo API must then list exactly what the phones sent, and agree with
// Kamailio's own count, through registers, unregisters and expiries.
import { T } from '../support/amqp';
import { eventually } from '../support/poll';
import { makePhones, Phone } from '../sipp/make-phones';
import { runSipp, SippResult } from '../sipp/sipp';
import { findFreePort } from './kamailio-harness';
import {
  comparable,
  endedBindings,
  expectedItem,
  gregorian,
  KazooItem,
  KazooStack,
  startKazooStack,
} from './kazoo-stack';

const REALMS = 10;
const PHONES = 1000;
// One phone in 8 registers over TCP, the others over UDP (every realm has both).
const overTcp = (i: number) => i % 8 === 5;

let s: KazooStack;
let phones: Phone[];
let udpPort: number;
let tcpPort: number;
let registeredFrom: number;
let registeredUntil: number;

beforeAll(async () => {
  s = await startKazooStack(Array.from({ length: REALMS }, (_, i) => i + 1));
  phones = makePhones({ count: PHONES, realms: REALMS, domain: s.domain });
  udpPort = await findFreePort();
  tcpPort = await findFreePort();
});
afterAll(async () => {
  await s?.stop();
});

function expectAllSent(r: SippResult, selected: number): void {
  expect({
    exit: r.exitCode,
    selected: r.selected,
    failed: r.failed,
    outOfCall: r.outOfCall,
  }).toEqual({ exit: 0, selected, failed: 0, outOfCall: 0 });
}

const byUserAndContact = (a: KazooItem, b: KazooItem) =>
  String(a.username).localeCompare(String(b.username)) ||
  String(a.contact).localeCompare(String(b.contact));

/**
 * What every account must list: the given phones of its realm, as sipp sent them, with the
 * expiry Kamailio granted. Its registrar reports the granted time as what is left of it after
 * the save, so a second ticking meanwhile makes 599 of a phone's 600: checked to be one of the
 * two, then expected exactly as Kamailio published it.
 */
async function expectedLists(live: readonly Phone[]): Promise<Map<string, KazooItem[]>> {
  const granted = await s.granted();
  const out = new Map<string, KazooItem[]>();
  for (const p of live) {
    const i = phones.indexOf(p);
    const tcp = overTcp(i);
    const item = expectedItem(p, {
      sipPort: s.kam.sipPort,
      localPort: tcp ? tcpPort : udpPort,
      transport: tcp ? 'tcp' : 'udp',
      accountName: s.account(p.realm).name,
    });
    const grant = granted.get(p.callId);
    expect([p.expires - 1, p.expires]).toContain(grant);
    item.expires = grant!;
    out.set(p.realm, [...(out.get(p.realm) ?? []), item]);
  }
  for (const items of out.values()) items.sort(byUserAndContact);
  return out;
}

/**
 * Waits until the API's total and Kamailio's count reach `n` (coming from the given direction:
 * overshooting fails), then checks both are exactly `n`.
 */
async function settleAt(n: number, direction: 'up' | 'down'): Promise<void> {
  const reached = (c: number) => (direction === 'up' ? c >= n : c <= n);
  const kamailio = await eventually(() => s.kam.countContacts(), reached, {
    timeoutMs: 10_000,
    intervalMs: 100,
    what: `Kamailio to hold ${n} contacts`,
  });
  const total = await eventually(() => s.totalCount(), reached, {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: `the API to count ${n} registrations`,
  });
  expect({ kamailio, api: total }).toEqual({ kamailio: n, api: n });
}

describe('Kazoo API over a real Kamailio and real phones', () => {
  it(`lists exactly the ${PHONES} phones sipp registered over ${REALMS} realms, with their values`, async () => {
    registeredFrom = Date.now();
    const [udp, tcp] = await Promise.all([
      runSipp({
        scenario: 'register',
        phones,
        only: (_p, i) => !overTcp(i),
        port: s.kam.sipPort,
        localPort: udpPort,
        rate: 500,
      }),
      runSipp({
        scenario: 'register',
        phones,
        only: (_p, i) => overTcp(i),
        port: s.kam.sipPort,
        localPort: tcpPort,
        transport: 'tcp',
        // sipp paces every line of the file, skipped ones too: 1,000 lines in 2 s.
        rate: 500,
      }),
    ]);
    registeredUntil = Date.now();
    const tcpCount = phones.filter((_p, i) => overTcp(i)).length;
    expectAllSent(udp, PHONES - tcpCount);
    expectAllSent(tcp, tcpCount);

    await settleAt(PHONES, 'up');

    // Per account: exactly the phones of its realm, every value as sipp sent it.
    const want = await expectedLists(phones);
    let listed = 0;
    for (const [realm, items] of want) {
      const got = await s.list(realm);
      listed += got.length;
      expect(got.map(comparable).sort(byUserAndContact)).toEqual(items);
      for (const item of got) {
        // Kazoo's times are Gregorian seconds; Kamailio stamps whole seconds.
        for (const k of ['event_timestamp', 'initial_registration', 'last_registration']) {
          expect(item[k]).toBeGreaterThanOrEqual(gregorian(registeredFrom) - 1);
          expect(item[k]).toBeLessThanOrEqual(gregorian(registeredUntil) + 1);
        }
      }
    }
    expect(listed).toBe(PHONES);

    // Per account count, and the same bindings as Kamailio holds, contact for contact.
    const kamailio = new Set<string>();
    for (const [aor, contacts] of await s.kam.dump()) {
      for (const c of contacts)
        kamailio.add(`${aor} ${c.Address} ${c['Call-ID']} ${c['User-Agent']}`);
    }
    const api = new Set<string>();
    for (const realm of want.keys()) {
      const count = await s.get<{ count: number }>(
        `/v2/accounts/${s.account(realm).id}/registrations/count`,
      );
      expect(count.body.data.count).toBe(want.get(realm)!.length);
      for (const i of await s.list(realm)) {
        const uri = String(i.original_contact).replace(/^<([^>]*)>.*$/, '$1');
        api.add(`${i.username}@${i.realm} ${uri} ${i.call_id} ${i.user_agent}`);
      }
    }
    expect(api).toEqual(kamailio);
    expect(await s.ingest.broker.queueDepth(T.deadLetterQueue.name)).toBe(0);
  });

  it('50 phones unregister: gone from the API, in history as unregistered', async () => {
    // Five UDP phones of every realm.
    const leaving = new Set<number>();
    for (let realm = 0; realm < REALMS; realm++) {
      for (let i = realm, n = 0; n < 5; i += REALMS) {
        if (!overTcp(i)) {
          leaving.add(i);
          n++;
        }
      }
    }
    const r = await runSipp({
      scenario: 'unregister',
      phones,
      only: leaving,
      port: s.kam.sipPort,
      localPort: udpPort,
      rate: 2000, // paces the 950 skipped lines too
      cseq: 2,
    });
    expectAllSent(r, 50);

    await settleAt(PHONES - 50, 'down');
    const want = await expectedLists(phones.filter((_p, i) => !leaving.has(i)));
    for (const [realm, items] of want) {
      expect((await s.list(realm)).map(comparable).sort(byUserAndContact)).toEqual(items);
    }

    const ended = await endedBindings(s.ingest.pool);
    expect(
      ended.map((h) => ({ username: h.username, reason: h.end_reason, call_id: h.call_id })),
    ).toEqual(
      expect.arrayContaining(
        [...leaving].map((i) => ({
          username: phones[i].username,
          reason: 'unregistered',
          call_id: phones[i].callId,
        })),
      ),
    );
    expect(ended).toHaveLength(50);
  });

  it('a phone re-registering from a new port (NAT rebinding) moves in Kamailio and the API alike', async () => {
    // Same Call-ID and +sip.instance, new source and Contact port: Kamailio updates the contact
    // (it matches on the instance), the product replaces the binding (same Call-ID).
    const i = PHONES - 1;
    const p = phones[i];
    expect(overTcp(i)).toBe(false);
    const movedPort = await findFreePort();
    const r = await runSipp({
      scenario: 'register',
      phones,
      only: new Set([i]),
      port: s.kam.sipPort,
      localPort: movedPort,
      rate: 2000,
      cseq: 3,
    });
    expectAllSent(r, 1);

    const want = expectedItem(p, {
      sipPort: s.kam.sipPort,
      localPort: movedPort,
      transport: 'udp',
      accountName: s.account(p.realm).name,
    });
    const listed = await eventually(
      async () => (await s.list(p.realm)).filter((item) => item.username === p.username),
      (items) => items.some((item) => item.contact_port === movedPort),
      { timeoutMs: 10_000, intervalMs: 100, what: `${p.username} at its new port` },
    );
    // Kamailio reports the grant as what is left of it after the save: 600 or 599 (see
    // expectedLists).
    const got = listed.map(comparable);
    expect([p.expires - 1, p.expires]).toContain(got[0]?.expires);
    expect(got).toEqual([{ ...want, expires: got[0].expires }]);
    expect((await s.kam.contactsOf(p.username, p.realm)).map((c) => c.Address)).toEqual([
      `sip:${p.username}@127.0.0.1:${movedPort};transport=UDP`,
    ]);
    const replaced = (await endedBindings(s.ingest.pool)).filter(
      (h) => h.end_reason === 'replaced',
    );
    expect(replaced.map((h) => [h.username, h.contact_uri])).toEqual([
      [p.username, `sip:${p.username}@127.0.0.1:${udpPort};transport=UDP`],
    ]);
    await settleAt(PHONES - 50, 'down');
  });

  it('phones with a short Expires that stop refreshing end as expired, in Kamailio and the API', async () => {
    const before = PHONES - 50;
    const short = makePhones({
      count: 20,
      realms: REALMS,
      domain: s.domain,
      expires: 2,
      callIdPrefix: 'short',
      userPrefix: 'short',
    });
    const sent = Date.now();
    const r = await runSipp({
      scenario: 'register',
      phones: short,
      port: s.kam.sipPort,
      localPort: udpPort,
      rate: 200,
    });
    expectAllSent(r, short.length);

    // Kamailio publishes nothing when a contact expires: the product must end them itself.
    const expired = await eventually(
      async () =>
        (await endedBindings(s.ingest.pool)).filter((h) => h.username.startsWith('short')),
      (rows) => rows.length >= short.length,
      { timeoutMs: 15_000, intervalMs: 100, what: 'the short-lived phones to expire' },
    );
    expect(
      expired
        .map((h) => ({
          username: h.username,
          reason: h.end_reason,
          call_id: h.call_id,
          mac: h.mac,
          user_agent: h.user_agent,
          expires_after_2s: h.expires_at.getTime() >= Math.floor(sent / 1000) * 1000 + 2000,
          ended_at_expiry: h.ended_at.getTime() >= h.expires_at.getTime(),
        }))
        .sort((a, b) => a.username.localeCompare(b.username)),
    ).toEqual(
      short.map((p) => ({
        username: p.username,
        reason: 'expired',
        call_id: p.callId,
        mac: p.mac,
        user_agent: p.userAgent,
        expires_after_2s: true,
        ended_at_expiry: true,
      })),
    );

    await settleAt(before, 'down');
    for (const realm of new Set(short.map((p) => p.realm))) {
      const names = (await s.list(realm)).map((i) => String(i.username));
      expect(names.filter((u) => u.startsWith('short'))).toEqual([]);
    }
    expect(await s.totalCount()).toBe(await s.kam.countContacts());
  });
});
