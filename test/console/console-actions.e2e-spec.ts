// The console's finer actions against the real API and ingest apps, Postgres and RabbitMQ
// (issue 16 point 3): DELETE /v2/console/accounts/{id}/bindings/{binding} flushes one contact
// (the one-contact flush of the sipXcom / hosted-PBX DELETEs: reg_flush naming Call-ID and Contact,
// FreeSWITCH flush_inbound_reg <call-id>) and only that binding ends; POST …/users/{u}/check_sync
// sends Kazoo's check-sync NOTIFY (kapi_switch notify, as crossbar_util:flush_registration does
// after its flush) and ends nothing. Another tenant's binding is a 404 through one's own account.
import { CommandTap, TappedCommand } from '../support/command-tap';
import { http } from '../support/api-harness';
import { freeswitch, kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { DialectHarness, TestAccount, xAuth } from '../dialects/dialect-harness';

jest.setTimeout(90_000);

let h: DialectHarness | undefined;
let tap: CommandTap | undefined;
let acme: TestAccount;
let other: TestAccount;
const ts = nowS();

const forRealm = (cmds: TappedCommand[], realm: string) =>
  cmds.filter((c) => c.json?.Realm === realm || c.text.includes(`@${realm}`));

/** Commands about this file's accounts (anything else on the vhost is not this file's). */
const ours = (cmds: TappedCommand[]) =>
  cmds.filter(
    (c) =>
      [acme.realm, other.realm].includes(c.json?.Realm) ||
      c.text.includes('cact-') ||
      c.text.includes(`@${acme.realm}`) ||
      c.text.includes(`@${other.realm}`),
  );

async function bindingIds(realm: string): Promise<Record<string, number>> {
  const { rows } = await h!.pool.query(
    `SELECT id, call_id FROM registrations WHERE realm_key = lower($1)
        AND ended_at IS NULL AND expires_at > now() ORDER BY id`,
    [realm],
  );
  return Object.fromEntries(
    rows.map((r: { id: string; call_id: string }) => [r.call_id, Number(r.id)]),
  );
}

async function endReason(id: number): Promise<string | null> {
  const { rows } = await h!.pool.query(
    `SELECT end_reason FROM registration_history WHERE registration_id = $1`,
    [id],
  );
  return (rows[0]?.end_reason as string | undefined) ?? null;
}

const del = (account: TestAccount, path: string, token = account.token) =>
  http(h!.url, 'DELETE', `/v2/console/accounts/${account.id}/${path}`, { headers: xAuth(token) });
const post = (account: TestAccount, path: string, token = account.token) =>
  http(h!.url, 'POST', `/v2/console/accounts/${account.id}/${path}`, { headers: xAuth(token) });

beforeAll(async () => {
  h = await DialectHarness.start('cact');
  tap = await CommandTap.open();
  acme = await h.account('acme');
  other = await h.account('other');
  await h.broker.publish([
    kazoo({
      realm: acme.realm,
      username: '300',
      contact: '<sip:300@192.168.5.30:5062>',
      callId: 'cact-300-desk',
      ts,
    }),
    kazoo({
      realm: acme.realm,
      username: '300',
      contact: '<sip:300@192.168.5.31:5060>',
      callId: 'cact-300-soft',
      ts,
    }),
    freeswitch({
      subclass: 'sofia::register',
      realm: acme.realm,
      username: '400',
      callId: 'cact-400-a@192.168.1.40',
      contact: '"400" <sip:400@192.168.1.40:5062;transport=udp>',
      us: ts * 1e6,
    }),
    freeswitch({
      subclass: 'sofia::register',
      realm: acme.realm,
      username: '400',
      callId: 'cact-400-b@192.168.1.41',
      contact: '"400" <sip:400@192.168.1.41:5062;transport=udp>',
      us: ts * 1e6,
    }),
    kazoo({ realm: other.realm, username: '900', callId: 'cact-900', ts }),
  ]);
  await eventually(
    async () =>
      Object.keys(await bindingIds(acme.realm)).length +
      Object.keys(await bindingIds(other.realm)).length,
    (n) => n === 5,
    { what: 'the five bindings', timeoutMs: 30_000 },
  );
}, 90_000);

afterAll(async () => {
  await tap?.close();
  await h?.stop();
});

describe('DELETE /v2/console/accounts/{id}/bindings/{binding_id}', () => {
  it('flushes one Kamailio contact: reg_flush names its Call-ID and Contact; the other contact of the AOR stays', async () => {
    const ids = await bindingIds(acme.realm);
    await tap!.takeAll();
    const r = await del(acme, `bindings/${ids['cact-300-desk']}`);
    expect(r.status).toBe(200);
    expect(r.json.data.binding).toEqual({
      id: ids['cact-300-desk'],
      username: '300',
      realm: acme.realm,
      contact: 'sip:300@192.168.5.30:5062',
      call_id: 'cact-300-desk',
      held_by: { kind: 'kamailio' },
    });
    expect(r.json.data.ended).toEqual([ids['cact-300-desk']]);
    // The API answers after the broker confirmed: the command is already in the tap's queue.
    const sent = forRealm((await tap!.takeAll()).registrar, acme.realm);
    expect(sent).toHaveLength(1);
    expect(sent[0].json).toMatchObject({
      'Event-Name': 'reg_flush',
      Realm: acme.realm,
      Username: '300',
      'Call-ID': 'cact-300-desk',
      Contact: 'sip:300@192.168.5.30:5062',
    });
    // What the console shows is what was published.
    expect(r.json.data.published).toHaveLength(1);
    expect(JSON.parse(r.json.data.published[0].body)).toEqual(sent[0].json);
    expect(r.json.data.published[0].routing_key).toBe(sent[0].routingKey);
    const left = await bindingIds(acme.realm);
    expect(left['cact-300-desk']).toBeUndefined();
    expect(left['cact-300-soft']).toBe(ids['cact-300-soft']);
    expect(await endReason(ids['cact-300-desk'])).toBe('flushed');
    // Gone: a second flush of it is a 404.
    const again = await del(acme, `bindings/${ids['cact-300-desk']}`);
    expect([again.status, again.json.message]).toEqual([404, 'bad_identifier']);
  });

  it('flushes one FreeSWITCH registration with flush_inbound_reg <call-id>; the other stays', async () => {
    const ids = await bindingIds(acme.realm);
    await tap!.takeAll();
    const r = await del(acme, `bindings/${ids['cact-400-a@192.168.1.40']}`);
    expect(r.status).toBe(200);
    expect(r.json.data.binding.held_by).toEqual({
      kind: 'freeswitch',
      hostname: expect.any(String),
      profile: expect.any(String),
    });
    const sent = (await tap!.takeAll()).tapCommands.filter((c) => c.text.includes('cact-400'));
    expect(sent.map((c) => c.text)).toEqual([
      `sofia profile ${r.json.data.binding.held_by.profile} flush_inbound_reg cact-400-a@192.168.1.40`,
    ]);
    expect(r.json.data.published.map((p: { body: string }) => p.body)).toEqual([sent[0].text]);
    const left = await bindingIds(acme.realm);
    expect(left['cact-400-a@192.168.1.40']).toBeUndefined();
    expect(left['cact-400-b@192.168.1.41']).toBe(ids['cact-400-b@192.168.1.41']);
  });

  it("answers 404 for another tenant's binding through one's own account, 403 through theirs, 400 for a bad id; nothing is sent", async () => {
    const theirs = (await bindingIds(other.realm))['cact-900'];
    await tap!.takeAll();
    const cross = await del(acme, `bindings/${theirs}`);
    expect([cross.status, cross.json.message]).toEqual([404, 'bad_identifier']);
    const foreign = await del(other, `bindings/${theirs}`, acme.token);
    expect(foreign.status).toBe(403);
    for (const bad of ['x1', '0', '-3', '1.5', '99999999999999999999']) {
      const r = await del(acme, `bindings/${encodeURIComponent(bad)}`);
      expect([bad, r.status, r.json.message]).toEqual([bad, 400, 'validation error']);
    }
    const unknown = await del(acme, 'bindings/999999999999');
    expect(unknown.status).toBe(404);
    const anon = await http(h!.url, 'DELETE', `/v2/console/accounts/${acme.id}/bindings/${theirs}`);
    expect(anon.status).toBe(401);
    const all = await tap!.takeAll();
    expect(ours([...all.registrar, ...all.tapCommands, ...all.switch])).toEqual([]);
    expect(await bindingIds(other.realm)).toEqual({ 'cact-900': theirs });
  });
});

describe('POST /v2/console/accounts/{id}/users/{username}/check_sync', () => {
  it('sends the check-sync NOTIFY and flushes nothing', async () => {
    const before = await bindingIds(acme.realm);
    await tap!.takeAll();
    const r = await post(acme, 'users/300/check_sync');
    expect(r.status).toBe(200);
    const all = await tap!.takeAll();
    expect(forRealm(all.registrar, acme.realm)).toEqual([]);
    expect(all.tapCommands.filter((c) => c.text.includes(acme.realm))).toEqual([]);
    const notify = forRealm(all.switch, acme.realm);
    expect(notify).toHaveLength(1);
    expect(notify[0].json).toMatchObject({
      'Event-Category': 'switch',
      'Event-Name': 'notify',
      Event: 'check-sync',
      Realm: acme.realm,
      Username: '300',
    });
    expect(r.json.data.username).toBe('300');
    expect(r.json.data.published.map((p: { routing_key: string }) => p.routing_key)).toEqual([
      notify[0].routingKey,
    ]);
    expect(await bindingIds(acme.realm)).toEqual(before);
  });

  it("answers 404 for a user the account never had (and for another tenant's user), 403 across tenants", async () => {
    await tap!.takeAll();
    const unknown = await post(acme, 'users/nobody-here/check_sync');
    expect([unknown.status, unknown.json.message]).toEqual([404, 'bad_identifier']);
    const theirs = await post(acme, 'users/900/check_sync');
    expect(theirs.status).toBe(404);
    const foreign = await post(other, 'users/900/check_sync', acme.token);
    expect(foreign.status).toBe(403);
    const all = await tap!.takeAll();
    expect(ours([...all.registrar, ...all.tapCommands, ...all.switch])).toEqual([]);
  });

  it('is documented in the OpenAPI', async () => {
    const r = await http(h!.url, 'GET', '/openapi.json');
    expect(r.status).toBe(200);
    const paths = r.json.paths as Record<string, Record<string, unknown>>;
    expect(paths['/v2/console/accounts/{accountId}/bindings/{bindingId}']).toHaveProperty('delete');
    expect(paths['/v2/console/accounts/{accountId}/users/{username}/check_sync']).toHaveProperty(
      'post',
    );
  });
});
