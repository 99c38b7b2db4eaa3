// One phone flushed when one is named (issue 15 point 2), end to end with the real Kamailio:
// two sipp phones register one AOR (user0001@realm01) from two ports; sipXcom's DELETE by
// Call-ID publishes a reg_flush that also names that Call-ID and Contact (our extension), and
// test/kamailio's reg_flush route removes only that contact (registrar's unregister with the
// contact's ruid). Kamailio keeps the other phone, and so does the API. DELETE by user still
// flushes the whole AOR.
import { eventually } from '../support/poll';
import { makePhones, Phone } from '../sipp/make-phones';
import { runSipp } from '../sipp/sipp';
import { findFreePort } from './kamailio-harness';
import { endedBindings, KazooStack, startKazooStack } from './kazoo-stack';

let s: KazooStack;
let deskA: Phone;
let deskB: Phone;
let portA: number;
let portB: number;

async function register(phone: Phone, localPort: number, cseq = 1): Promise<void> {
  const r = await runSipp({
    scenario: 'register',
    port: s.kam.sipPort,
    localPort,
    rate: 50,
    phones: [phone],
    cseq,
  });
  expect({ exit: r.exitCode, failed: r.failed }).toEqual({ exit: 0, failed: 0 });
}

/** Call-IDs of the AOR in Kamailio and in the API, sorted. */
async function callIds(): Promise<{ kamailio: string[]; api: string[] }> {
  const kamailio = (await s.kam.contactsOf(deskA.username, deskA.realm))
    .map((c) => c['Call-ID'])
    .sort();
  const api = (await s.list(deskA.realm))
    .filter((i) => i.username === deskA.username)
    .map((i) => String(i.call_id))
    .sort();
  return { kamailio, api };
}

async function expectCallIds(want: string[], what: string): Promise<void> {
  const got = await eventually(
    callIds,
    (c) => JSON.stringify(c) === JSON.stringify({ kamailio: want, api: want }),
    { timeoutMs: 15_000, intervalMs: 100, what },
  ).catch(() => callIds());
  expect(got).toEqual({ kamailio: want, api: want });
}

const sipx = (method: string, path: string) =>
  fetch(`${s.apiUrl}/sipxconfig/api/registrations${path}`, {
    method,
    headers: { 'x-auth-token': s.token },
  });

beforeAll(async () => {
  s = await startKazooStack([1]);
  [deskA] = makePhones({ count: 1, realms: 1, domain: s.domain, callIdPrefix: 'deskA' });
  // Another MAC, so another +sip.instance: Kamailio would otherwise take B as A's new contact.
  [deskB] = makePhones({ count: 1, realms: 1, domain: s.domain, callIdPrefix: 'deskB' }).map(
    (p) => ({ ...p, mac: `a0${p.mac.slice(2)}` }),
  );
  portA = await findFreePort();
  portB = await findFreePort();
  await register(deskA, portA);
  await register(deskB, portB);
  await expectCallIds([deskA.callId, deskB.callId].sort(), 'both desks registered');
}, 120_000);

afterAll(async () => {
  await s?.stop();
});

describe('sipXcom DELETE by Call-ID with the real Kamailio', () => {
  it('removes only that phone, in Kamailio and in the API', async () => {
    const res = await sipx('DELETE', `/callid/${encodeURIComponent(deskA.callId)}`);
    expect(res.status).toBe(200);
    // The answer says what a proxy that ignores the extension does.
    expect(res.headers.get('warning')).toMatch(/^299 - ".*whole AOR.*"$/);
    await expectCallIds([deskB.callId], 'only desk B left');
    const flushed = (await endedBindings(s.ingest.pool)).filter(
      (h) => h.end_reason === 'flushed' && h.realm === deskA.realm,
    );
    expect(flushed.map((h) => h.call_id)).toEqual([deskA.callId]);
  });

  it('DELETE by user still flushes every phone of the AOR', async () => {
    await register(deskA, portA, 2);
    await expectCallIds([deskA.callId, deskB.callId].sort(), 'desk A back');
    const res = await sipx('DELETE', `/user/${deskA.username}@${deskA.realm}`);
    expect(res.status).toBe(200);
    await expectCallIds([], 'no desk left');
  });
});
