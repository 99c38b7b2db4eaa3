// DELETE on the Kazoo API must reach the real Kamailio: the API publishes reg_flush, Kamailio
// (kazoo module, its own queue on `registrar`) drops the bindings, and the API stops listing them.
import { T } from '../support/amqp';
import { eventually } from '../support/poll';
import { makePhones, Phone } from '../sipp/make-phones';
import { runSipp, SippOptions } from '../sipp/sipp';
import { findFreePort } from './kamailio-harness';
import { endedBindings, KazooStack, startKazooStack } from './kazoo-stack';

const REALMS = 4;
const PHONES = 200;

let s: KazooStack;
let phones: Phone[];
/** A second desk phone for user0001..0003 (realm01..03): their AORs hold two contacts. */
let secondDesk: Phone[];
let udpPort: number;
let secondPort: number;
const realm = (n: number) => `realm${String(n).padStart(2, '0')}.${s.domain}`;

async function register(o: Partial<SippOptions> & Pick<SippOptions, 'phones'>): Promise<void> {
  const r = await runSipp({
    scenario: 'register',
    port: s.kam.sipPort,
    localPort: udpPort,
    rate: 400,
    ...o,
  });
  expect({ exit: r.exitCode, failed: r.failed, outOfCall: r.outOfCall }).toEqual({
    exit: 0,
    failed: 0,
    outOfCall: 0,
  });
}

/** Contacts per realm in Kamailio and live registrations per account through the API. */
async function counts(): Promise<{
  kamailio: Record<string, number>;
  api: Record<string, number>;
}> {
  const byRealm = await s.kamailioByRealm();
  const kamailio: Record<string, number> = {};
  const api: Record<string, number> = {};
  for (let n = 1; n <= REALMS; n++) {
    kamailio[realm(n)] = byRealm.get(realm(n)) ?? 0;
    const c = await s.get<{ count: number }>(
      `/v2/accounts/${s.account(realm(n)).id}/registrations/count`,
    );
    api[realm(n)] = c.body.data.count;
  }
  return { kamailio, api };
}

/** Waits until Kamailio and the API both hold `want` per realm. */
async function expectCounts(want: number[]): Promise<void> {
  const expected = Object.fromEntries(want.map((n, i) => [realm(i + 1), n]));
  const got = await eventually(
    counts,
    (c) => JSON.stringify(c) === JSON.stringify({ kamailio: expected, api: expected }),
    { timeoutMs: 10_000, intervalMs: 100, what: `Kamailio and the API at ${want.join('/')}` },
  ).catch(async () => counts());
  expect(got).toEqual({ kamailio: expected, api: expected });
}

beforeAll(async () => {
  s = await startKazooStack([1, 2, 3, 4]);
  phones = makePhones({ count: PHONES, realms: REALMS, domain: s.domain });
  secondDesk = makePhones({
    count: 3,
    realms: REALMS,
    domain: s.domain,
    callIdPrefix: 'desk2',
  }).map((p) => ({ ...p, mac: `a0${p.mac.slice(2)}` }));
  udpPort = await findFreePort();
  secondPort = await findFreePort();
  await register({ phones });
  await register({ phones: secondDesk, localPort: secondPort });
  // 50 phones per realm, plus the second desk phones of realm01..03.
  await expectCounts([51, 51, 51, 50]);
});
afterAll(async () => {
  await s?.stop();
});

describe('DELETE on the Kazoo API flushes the real Kamailio', () => {
  it('DELETE …/registrations/{USERNAME}: Kamailio drops that AOR within 2 s, the API too', async () => {
    const victim = phones[0]; // user0001@realm01, two contacts
    const account = s.account(victim.realm).id;
    expect(await s.kam.contactsOf(victim.username, victim.realm)).toHaveLength(2);
    expect((await s.list(victim.realm)).filter((i) => i.username === victim.username)).toHaveLength(
      2,
    );

    const t0 = Date.now();
    const res = await s.del<string>(`/v2/accounts/${account}/registrations/${victim.username}`);
    expect({ status: res.status, data: res.body.data }).toEqual({ status: 200, data: 'ok' });
    let goneAt = 0;
    await eventually(
      () => s.kam.hasAor(victim.username, victim.realm),
      (has) => {
        if (!has) goneAt = Date.now();
        return !has;
      },
      { timeoutMs: 5_000, intervalMs: 20, what: `Kamailio to drop ${victim.username}` },
    );
    expect(goneAt - t0).toBeLessThan(2_000);

    // Only that AOR: user0002 (realm02) keeps both its phones.
    expect(await s.kam.contactsOf(phones[1].username, phones[1].realm)).toHaveLength(2);
    expect((await s.list(victim.realm)).map((i) => i.username)).not.toContain(victim.username);
    await expectCounts([49, 51, 51, 50]);
    const flushed = (await endedBindings(s.ingest.pool)).filter((h) => h.end_reason === 'flushed');
    expect(flushed.map((h) => `${h.username}@${h.realm} ${h.call_id}`).sort()).toEqual([
      `${victim.username}@${victim.realm} desk2-1@harness`,
      `${victim.username}@${victim.realm} user-1@harness`,
    ]);

    // The phone registers again (as check-sync would make it): back in Kamailio and the API.
    await register({ phones, only: new Set([0]), cseq: 2 });
    await expectCounts([50, 51, 51, 50]);
    const back = (await s.list(victim.realm)).filter((i) => i.username === victim.username);
    expect(back.map((i) => i.call_id)).toEqual([victim.callId]);
  });

  it('DELETE …/registrations: Kamailio has no binding left in the realm of that account', async () => {
    const target = realm(2);
    const res = await s.del<string>(`/v2/accounts/${s.account(target).id}/registrations`);
    expect({ status: res.status, data: res.body.data }).toEqual({ status: 200, data: 'ok' });

    await eventually(
      () => s.kam.countContacts(target),
      (n) => n === 0,
      { timeoutMs: 5_000, intervalMs: 50, what: `Kamailio to empty ${target}` },
    );
    // The other accounts' realms are untouched, in Kamailio and in the API.
    await expectCounts([50, 0, 51, 50]);
    expect(await s.list(target)).toEqual([]);
    expect(await s.totalCount()).toBe(await s.kam.countContacts());
    const flushed = (await endedBindings(s.ingest.pool)).filter(
      (h) => h.end_reason === 'flushed' && h.realm === target,
    );
    expect(flushed).toHaveLength(51);
    expect(await s.ingest.broker.queueDepth(T.deadLetterQueue.name)).toBe(0);
  });
});
