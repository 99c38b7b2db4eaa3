// The traffic generator must look like the real proxies (so the service's parsers accept it)
// and be reproducible, ordered per binding, and fast enough for the 200k-event benchmark.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFreeswitchMessage, parseKazooMessage } from '@app/registrations';
import {
  buildMessage,
  createBuildContext,
  makePhones,
  mixedStream,
  type TrafficKind,
  type TrafficMessage,
} from './traffic-generator';

// Copied from test/fixtures/kamailio/reg_success.*.json (real Kamailio 5.6 captures); checked
// against the files themselves below.
const FIXTURE_KEYS = [
  'Event-Category', 'Event-Name', 'Status', 'Event-Timestamp', 'Expires', 'First-Registration',
  'Contact', 'Call-ID', 'Realm', 'Username', 'From-User', 'From-Host', 'To-User', 'To-Host',
  'User-Agent', 'Custom-Channel-Vars', 'Proxy-Path', 'Proxy-Protocol', 'Proxy-IP', 'Proxy-Port',
  'Source-IP', 'Source-Port', 'Proxy-URI', 'App-Name', 'App-Version', 'Node', 'Msg-ID', 'Server-ID',
]; // prettier-ignore
const FIXTURE_CCV_KEYS = [
  'Account-ID',
  'Authorizing-ID',
  'Authorizing-Type',
  'Username',
  'Realm',
  'Account-Realm',
];
const FIXTURES = join(__dirname, '../../test/fixtures/kamailio');

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sorted = (xs: Iterable<string>) => [...xs].sort();

function byPhone(stream: TrafficMessage[]): Map<number, TrafficMessage[]> {
  const m = new Map<number, TrafficMessage[]>();
  for (const msg of stream) {
    const list = m.get(msg.phone);
    if (list) list.push(msg);
    else m.set(msg.phone, [msg]);
  }
  return m;
}

describe('traffic generator', () => {
  const stream = mixedStream({ aors: 1000, eventsTotal: 3000, seed: 7, unregisterShare: 0.1 });

  it('is deterministic for a seed, and a different seed gives other traffic', () => {
    expect(mixedStream({ aors: 1000, eventsTotal: 3000, seed: 7, unregisterShare: 0.1 })).toEqual(
      stream,
    );
    const other = mixedStream({ aors: 1000, eventsTotal: 3000, seed: 8, unregisterShare: 0.1 });
    expect(other.map((m) => m.body)).not.toEqual(stream.map((m) => m.body));
  });

  it('keeps the first phones unchanged when more phones are asked for', () => {
    const few = makePhones({ phones: 50, realms: 5, seed: 3 });
    expect(makePhones({ phones: 500, realms: 5, seed: 3 }).slice(0, 50)).toEqual(few);
  });

  it('orders each binding: register first, refreshes while registered, then unregister or expire', () => {
    for (const [, events] of byPhone(stream)) {
      expect(events[0].kind).toBe('register');
      let up = false;
      let lastUs = -1;
      let lastKazooS = -1;
      for (const e of events) {
        if (e.kind === 'refresh' || e.kind === 'unregister' || e.kind === 'expire')
          expect(up).toBe(true);
        up = e.kind === 'register' || e.kind === 'refresh';
        expect(e.eventUs).toBeGreaterThan(lastUs);
        lastUs = e.eventUs;
        if (e.origin === 'kazoo') {
          expect(e.body['Event-Timestamp']).toBeGreaterThanOrEqual(lastKazooS);
          lastKazooS = e.body['Event-Timestamp'] as number;
        } else {
          expect(Number(e.body['Event-Date-Timestamp'])).toBe(e.eventUs);
        }
      }
    }
    const times = stream.map((m) => m.eventUs);
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('produces every kind from both origins, with FreeSWITCH sequences increasing per switch', () => {
    const seen = new Set(stream.map((m) => `${m.origin}:${m.kind}`));
    for (const k of ['kazoo:register', 'kazoo:refresh', 'kazoo:unregister', 'freeswitch:register'])
      expect(seen).toContain(k);
    for (const k of ['freeswitch:refresh', 'freeswitch:unregister', 'freeswitch:expire'])
      expect(seen).toContain(k);
    expect(seen).not.toContain('kazoo:expire'); // Kamailio publishes nothing on expiry
    const last = new Map<string, number>();
    for (const m of stream.filter((x) => x.origin === 'freeswitch')) {
      const host = m.body['FreeSWITCH-Hostname'] as string;
      const seq = Number(m.body['Event-Sequence']);
      expect(seq).toBeGreaterThan(last.get(host) ?? 0);
      last.set(host, seq);
    }
  });

  it('gives Kazoo messages exactly the keys Kamailio sends, with its types', () => {
    const kazoo = stream.filter((m) => m.origin === 'kazoo');
    for (const m of kazoo) {
      expect(sorted(Object.keys(m.body))).toEqual(sorted(FIXTURE_KEYS));
      const ccv = m.body['Custom-Channel-Vars'] as Record<string, string>;
      expect(Object.keys(ccv)).toEqual(
        expect.arrayContaining([...FIXTURE_CCV_KEYS, 'Account-Name', 'Owner-ID']),
      );
      expect(ccv['Account-ID']).toBe(md5(`account:${m.body.Realm as string}`));
      expect(ccv['Authorizing-ID']).toBe(
        md5(`device:${m.body.Username as string}@${m.body.Realm as string}`),
      );
      expect(Number.isInteger(m.body['Event-Timestamp'])).toBe(true);
      expect(typeof m.body['Proxy-Port']).toBe('string');
      expect(typeof m.body['Source-Port']).toBe('string');
      expect(m.body['Msg-ID']).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(m.exchange).toBe('registrar');
      expect(m.contentType).toBe('application/json');
    }
    const first = (kind: TrafficKind) => kazoo.find((m) => m.kind === kind)!.body;
    expect(first('register')).toMatchObject({ 'First-Registration': true, Status: 'Registered' });
    expect(first('refresh')).toMatchObject({ 'First-Registration': false, Status: 'Registered' });
    expect(first('unregister')).toMatchObject({ Expires: 0, Status: 'Unregistered' });
  });

  it('copied the key lists from the real fixtures', () => {
    const fixtureFiles = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
    expect(fixtureFiles.length).toBeGreaterThan(0);
    for (const f of fixtureFiles) {
      const body = JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Record<string, unknown>;
      expect(sorted(Object.keys(body))).toEqual(sorted(FIXTURE_KEYS));
      expect(sorted(Object.keys(body['Custom-Channel-Vars'] as object))).toEqual(
        sorted(FIXTURE_CCV_KEYS),
      );
    }
  });

  it('sends every FreeSWITCH header as a string, update-reg true only on refreshes', () => {
    const fs = stream.filter((m) => m.origin === 'freeswitch');
    for (const m of fs) {
      for (const v of Object.values(m.body)) expect(typeof v).toBe('string');
      expect(m.exchange).toBe('TAP.Events');
      expect(m.contentType).toBe('text/json');
      if (m.body['Event-Subclass'] === 'sofia::register') {
        expect(m.body['update-reg']).toBe(m.kind === 'refresh' ? 'true' : 'false');
      }
      expect(m.body['profile-name']).toBe('internal');
    }
  });

  it('encodes dots in routing keys as %2E', () => {
    const phones = makePhones({ phones: 4, realms: 2, seed: 1, fsShare: 0.5 });
    const ctx = createBuildContext(1);
    const kazooPhone = phones.find((p) => p.origin === 'kazoo')!;
    const fsPhone = phones.find((p) => p.origin === 'freeswitch')!;
    expect(buildMessage(ctx, kazooPhone, 'register', 1e15).routingKey).toBe(
      `registration.success.${kazooPhone.realm.replace(/\./g, '%2E')}.${kazooPhone.username}`,
    );
    expect(buildMessage(ctx, fsPhone, 'unregister', 1e15).routingKey).toMatch(
      /^FreeSWITCH\.fs[12]%2Esim%2Eexample%2Enet\.CUSTOM\.sofia%3A%3Aunregister\.$/,
    );
    expect(() => buildMessage(ctx, kazooPhone, 'expire', 1e15)).toThrow();
  });

  it("is accepted by the service's parsers as the kind it was meant to be", () => {
    for (const m of stream) {
      const raw = JSON.stringify(m.body);
      const r = m.origin === 'kazoo' ? parseKazooMessage(raw) : parseFreeswitchMessage(raw);
      if (!r.ok) throw new Error(`${m.origin} ${m.kind} rejected: ${JSON.stringify(r.error)}`);
      expect(r.event).toMatchObject({
        kind: m.kind,
        origin: m.origin,
        eventUs: m.origin === 'kazoo' ? Math.floor(m.eventUs / 1e6) * 1e6 : m.eventUs,
      });
    }
    const macs = stream.map((m) => parseKazooOrFs(m)).filter((mac) => mac !== undefined);
    expect(macs.length).toBeGreaterThan(stream.length * 0.7); // desk phones are most phones
  });

  it('builds 200,000 mixed events over 100,000 AORs', () => {
    const big = mixedStream({ aors: 100_000, eventsTotal: 200_000, seed: 1 });
    expect(big).toHaveLength(200_000);
    expect(new Set(big.map((m) => m.phone)).size).toBe(100_000);
    const count = (f: (m: TrafficMessage) => boolean) => big.filter(f).length;
    expect(count((m) => m.kind === 'register')).toBeGreaterThanOrEqual(100_000);
    expect(count((m) => m.kind === 'refresh')).toBeGreaterThan(50_000);
    expect(count((m) => m.kind === 'unregister' || m.kind === 'expire')).toBeGreaterThan(5_000);
    expect(count((m) => m.origin === 'freeswitch') / big.length).toBeCloseTo(0.3, 1);
    expect(count((m) => m.kind === 'unregister' || m.kind === 'expire') / big.length).toBeCloseTo(
      0.05,
      1,
    );
  }, 60_000); // generous: machines running the suite are shared; the build itself takes ~2 s
});

function parseKazooOrFs(m: TrafficMessage): string | undefined {
  const raw = JSON.stringify(m.body);
  const r = m.origin === 'kazoo' ? parseKazooMessage(raw) : parseFreeswitchMessage(raw);
  return r.ok && 'mac' in r.event ? r.event.mac : undefined;
}
