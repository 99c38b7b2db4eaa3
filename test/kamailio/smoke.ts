/**
 * Smoke test of the real Kamailio + sipp harness, no product involved:
 *   npx ts-node --transpile-only test/kamailio/smoke.ts
 *
 * 1. a temp queue bound to registrar / registration.# in vhost kamailio-smoke (created if missing)
 * 2. Kamailio started from kamailio.cfg.tmpl; sipp registers 50 phones over 5 realms
 * 3. every published reg_success has the fixtures' shape (one is printed), one per REGISTER
 * 4. refresh of all phones (same Call-ID, CSeq+1): First-Registration false
 * 5. 5 phones unregister: Status Unregistered, Expires 0; Kamailio count 45
 * 6. reg_flush Realm+Username drops that AOR; reg_flush Realm drops the realm to 0
 *    (realms are realmNN.p<sip port>.harness.test so that parallel runs on one vhost don't collide)
 * 7. bonus: a phone with Expires 2 that never refreshes is published as Expired
 * Prints PASS or FAIL (exit code 0 / 1). Env: AMQP_URL, SIP_PORT, SIPP_PORT to override.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as amqp from 'amqplib';
import { findFreePort, KamailioHandle, startKamailio, waitUntil } from './kamailio-harness';
import { makePhones, Phone } from '../sipp/make-phones';
import { runSipp, SippResult } from '../sipp/sipp';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/kamailio-smoke';
const FIXTURES = process.env.FIXTURES ?? join(__dirname, '../fixtures/kamailio');

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Received {
  key: string;
  body: Record<string, Json>;
}

const failures: string[] = [];
const str = (v: Json | undefined): string => (typeof v === 'string' ? v : JSON.stringify(v));
function check(ok: boolean, what: string): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

/** Kazoo routing-key segment encoding (wire-formats §1). */
function encode(s: string): string {
  return s.replace(/[^A-Za-z0-9_~-]/g, (c) =>
    c === ' ' ? '+' : `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/** Same keys (recursively) and same JSON types as the fixture; returns the differences. */
function shapeDiff(fixture: Record<string, Json>, got: Record<string, Json>, path = ''): string[] {
  const out: string[] = [];
  const type = (v: Json): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  for (const k of new Set([...Object.keys(fixture), ...Object.keys(got)])) {
    if (!(k in got)) out.push(`missing ${path}${k}`);
    else if (!(k in fixture)) out.push(`extra ${path}${k}`);
    else if (type(fixture[k]) !== type(got[k])) {
      out.push(`${path}${k}: ${type(got[k])} instead of ${type(fixture[k])}`);
    } else if (type(got[k]) === 'object') {
      out.push(
        ...shapeDiff(
          fixture[k] as Record<string, Json>,
          got[k] as Record<string, Json>,
          `${path}${k}.`,
        ),
      );
    }
  }
  return out;
}

/** The values a phone's message must carry, independent of the fixture. */
function valueDiff(m: Record<string, Json>, p: Phone, sipPort: number, sippPort: number): string[] {
  const md5 = (s: string): string => execFileSync('md5sum', { input: s }).toString().split(' ')[0];
  const want: Record<string, Json> = {
    Realm: p.realm,
    Username: p.username,
    'From-User': p.username,
    'To-User': p.username,
    'From-Host': p.realm,
    'To-Host': p.realm,
    'Call-ID': p.callId,
    'User-Agent': p.userAgent,
    Contact: `<sip:${p.username}@127.0.0.1:${sippPort};transport=UDP>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-${p.mac}>"`,
    'Proxy-Path': `sip:127.0.0.1:${sipPort};transport=udp`,
    'Proxy-URI': `sip:127.0.0.1:${sipPort};transport=udp`,
    'Proxy-Protocol': 'udp',
    'Proxy-IP': '127.0.0.1',
    'Proxy-Port': String(sipPort),
    'Source-IP': '127.0.0.1',
    'Source-Port': String(sippPort),
    'App-Name': 'kamailio-harness',
    Node: 'kamailio@harness.kamailio',
  };
  const out = Object.entries(want)
    .filter(([k, v]) => m[k] !== v)
    .map(([k, v]) => `${k}: ${JSON.stringify(m[k])} != ${JSON.stringify(v)}`);
  const ccv = m['Custom-Channel-Vars'] as Record<string, Json>;
  if (ccv?.['Account-ID'] !== md5(`account:${p.realm}`)) out.push('Account-ID');
  if (ccv?.['Authorizing-ID'] !== md5(`device:${p.username}@${p.realm}`))
    out.push('Authorizing-ID');
  if (!/^[0-9a-f-]{36}$/.test(str(m['Msg-ID']))) out.push('Msg-ID not a uuid');
  return out;
}

async function ensureVhost(url: string): Promise<void> {
  try {
    await (await amqp.connect(url)).close();
  } catch {
    const vhost = decodeURIComponent(new URL(url).pathname.slice(1)) || '/';
    execFileSync('rabbitmqctl', ['add_vhost', vhost], { stdio: 'ignore' });
    execFileSync('rabbitmqctl', ['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*'], {
      stdio: 'ignore',
    });
  }
}

function sippOk(r: SippResult, what: string): void {
  check(
    r.exitCode === 0 && r.failed === 0 && r.outOfCall === 0,
    `${what}: sipp exit ${r.exitCode}, ${r.selected} sent, ${r.failed} failed, ` +
      `${r.retransmissions} retransmissions, ${r.durationMs} ms`,
  );
  if (r.failed > 0) console.log(r.errors);
}

async function main(): Promise<void> {
  await ensureVhost(AMQP_URL);
  const sipPort = Number(process.env.SIP_PORT ?? (await findFreePort()));
  const sippPort = Number(process.env.SIPP_PORT ?? (await findFreePort()));
  let kam: KamailioHandle | undefined;
  const conn = await amqp.connect(AMQP_URL);
  try {
    kam = await startKamailio({ amqpUrl: AMQP_URL, sipPort, publishExpired: true });
    console.log(`kamailio pid ${kam.pid} on 127.0.0.1:${sipPort}, work dir ${kam.workDir}`);

    // Kamailio declared `registrar` (non-durable topic) on start; bind after that.
    const ch = await conn.createChannel();
    const q = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(q.queue, 'registrar', 'registration.#');
    const got: Received[] = [];
    await ch.consume(
      q.queue,
      (m) => {
        if (!m) return;
        const body = JSON.parse(m.content.toString()) as Record<string, Json>;
        // Only our Kamailio's messages: another run may share the vhost (and `registrar`).
        if (body['Proxy-Port'] === String(sipPort)) got.push({ key: m.fields.routingKey, body });
      },
      { noAck: true },
    );
    // Messages published since `start` (take got.length before acting).
    const waitFor = async (start: number, n: number, what: string): Promise<Received[]> => {
      await waitUntil(10000, async () => got.length >= start + n).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500)); // duplicates would arrive now
      const batch = got.slice(start);
      check(batch.length === n, `${what}: ${batch.length} messages published (want ${n})`);
      return batch;
    };

    // Realms of our own: a reg_flush reaches every Kamailio on the vhost (as with real proxies),
    // so runs sharing realm names would flush each other's phones.
    const domain = `p${sipPort}.harness.test`;
    const phones = makePhones({ count: 50, realms: 5, domain });
    const byCallId = new Map(phones.map((p) => [p.callId, p]));
    const fixture = (name: string): Record<string, Json> =>
      JSON.parse(readFileSync(join(FIXTURES, `reg_success.${name}.json`), 'utf8'));

    // --- register
    let mark = got.length;
    sippOk(
      await runSipp({ scenario: 'register', phones, port: sipPort, localPort: sippPort, rate: 50 }),
      'register 50',
    );
    const reg = await waitFor(mark, 50, 'register');
    check(new Set(reg.map((r) => r.body['Call-ID'])).size === 50, 'one message per phone');
    check((await kam.countContacts()) === 50, `kamailio has ${await kam.countContacts()} contacts`);
    const sample = reg[0];
    console.log(`sample (${sample.key}):\n${JSON.stringify(sample.body)}`);
    const bad: string[] = [];
    for (const r of reg) {
      const p = byCallId.get(str(r.body['Call-ID']));
      if (!p) {
        bad.push(`unknown Call-ID ${str(r.body['Call-ID'])}`);
        continue;
      }
      bad.push(...shapeDiff(fixture('register'), r.body).map((d) => `${p.username}: ${d}`));
      bad.push(...valueDiff(r.body, p, sipPort, sippPort).map((d) => `${p.username}: ${d}`));
      if (r.key !== `registration.success.${encode(p.realm)}.${encode(p.username)}`)
        bad.push(`key ${r.key}`);
      if (
        r.body.Status !== 'Registered' ||
        r.body.Expires !== 600 ||
        r.body['First-Registration'] !== true
      ) {
        bad.push(`${p.username}: Status/Expires/First-Registration`);
      }
    }
    check(
      bad.length === 0,
      `register messages match the fixture shape and values ${bad.slice(0, 5).join('; ')}`,
    );

    // --- refresh: same Call-IDs, CSeq 2
    mark = got.length;
    sippOk(
      await runSipp({
        scenario: 'register',
        phones,
        port: sipPort,
        localPort: sippPort,
        rate: 50,
        cseq: 2,
      }),
      'refresh 50',
    );
    const ref = await waitFor(mark, 50, 'refresh');
    check(
      ref.every((r) => r.body['First-Registration'] === false && r.body.Status === 'Registered') &&
        ref.every((r) => shapeDiff(fixture('refresh'), r.body).length === 0),
      'refresh messages: First-Registration false, fixture shape',
    );

    // --- unregister 5 phones, one per realm
    const leaving = new Set([0, 11, 22, 33, 44]);
    mark = got.length;
    sippOk(
      await runSipp({
        scenario: 'unregister',
        phones,
        only: leaving,
        port: sipPort,
        localPort: sippPort,
        rate: 50,
        cseq: 3,
      }),
      'unregister 5',
    );
    const unreg = await waitFor(mark, 5, 'unregister');
    check(
      unreg.every(
        (r) =>
          r.body.Status === 'Unregistered' &&
          r.body.Expires === 0 &&
          shapeDiff(fixture('unregister'), r.body).length === 0 &&
          [...leaving].some((i) => phones[i].callId === r.body['Call-ID']),
      ),
      'unregister messages: Status Unregistered, Expires 0, the right phones, fixture shape',
    );
    check(
      (await kam.countContacts()) === 45,
      `kamailio count after unregister: ${await kam.countContacts()} (want 45)`,
    );
    check(!(await kam.hasAor(phones[0].username, phones[0].realm)), `${phones[0].username} gone`);

    // --- reg_flush: one AOR, then a whole realm
    const pub = (body: Record<string, string>): void => {
      ch.publish(
        'registrar',
        `registration.flush.${encode(body.Realm)}`,
        Buffer.from(
          JSON.stringify({
            'Event-Category': 'directory',
            'Event-Name': 'reg_flush',
            'App-Name': 'smoke',
            'App-Version': '1',
            'Msg-ID': `smoke-${Date.now()}`,
            ...body,
          }),
        ),
        { contentType: 'application/json' },
      );
    };
    const victim = phones[2]; // user0003@realm03
    check(
      await kam.hasAor(victim.username, victim.realm),
      `${victim.username}@${victim.realm} present before flush`,
    );
    pub({ Realm: victim.realm, Username: victim.username });
    await waitUntil(3000, async () => !(await kam!.hasAor(victim.username, victim.realm))).catch(
      () => undefined,
    );
    check(
      !(await kam.hasAor(victim.username, victim.realm)),
      `reg_flush Realm+Username removed ${victim.username}@${victim.realm}`,
    );

    const realm = phones[1].realm; // realm02
    const before = await kam.countContacts(realm);
    const others = (await kam.countContacts()) - before;
    pub({ Realm: realm });
    await waitUntil(3000, async () => (await kam!.countContacts(realm)) === 0).catch(
      () => undefined,
    );
    const after = await kam.countContacts(realm);
    check(before > 0 && after === 0, `reg_flush Realm ${realm}: ${before} -> ${after} contacts`);
    check((await kam.countContacts()) === others, `other realms untouched (${others})`);

    // --- bonus: expiry (Kamailio option publishExpired; real Kazoo Kamailio publishes nothing)
    const shortLived = makePhones({
      count: 1,
      realms: 1,
      expires: 2,
      callIdPrefix: 'short',
      userPrefix: 'short',
      domain,
    });
    mark = got.length;
    sippOk(
      await runSipp({
        scenario: 'register',
        phones: shortLived,
        port: sipPort,
        localPort: sippPort,
      }),
      'register 1 short-lived',
    );
    const exp = await waitFor(mark, 2, 'register + expiry (bonus)');
    check(
      exp[1]?.body.Status === 'Expired' && exp[1]?.body.Expires === 0,
      `expired contact published as Status Expired`,
    );
  } catch (err) {
    check(false, `unexpected error: ${err instanceof Error ? err.stack : String(err)}`);
  } finally {
    await conn.close().catch(() => undefined);
    await kam?.stop();
  }
  console.log(
    failures.length === 0 ? 'PASS' : `FAIL (${failures.length}): ${failures.join(' | ')}`,
  );
  process.exit(failures.length === 0 ? 0 : 1);
}

void main();
