// DELETE …/registrations and …/registrations/{USERNAME}: the commands the proxies receive
// (observed on our own queues bound to `registrar`, `TAP.Commands` and `switch`), the store
// (bindings gone from the next GET, history reason flushed) and the errors.
import {
  accountIdFor,
  accountWithToken,
  ApiHarness,
  expectEnvelope,
  expectKazooError,
  expectValidationError,
  GREGORIAN_OFFSET_S,
  http,
  startApi,
} from '../support/api-harness';
import { historyOf, kazooBinding, liveCount, waitForLive } from '../support/api-fixtures';
import { CommandTap, TappedCommand } from '../support/command-tap';
import { startIngest, Harness } from '../support/ingest-harness';
import { freeswitch, nowS } from '../support/messages';
import { eventually } from '../support/poll';

let h: Harness;
let api: ApiHarness;
let tap: CommandTap;

const FL = { id: accountIdFor('fl-kazoo'), name: 'Flush Co', realm: 'flush.fl.api-e2e.test' };
const REALM2 = 'flush2.fl.api-e2e.test';
const FSA = { id: accountIdFor('fl-fs'), name: 'FS Co', realm: 'fs.fl.api-e2e.test' };
const OTHER = { id: accountIdFor('fl-other'), name: 'Other', realm: 'other.fl.api-e2e.test' };
const DOT = { id: accountIdFor('fl-dot'), name: 'Dot Co', realm: 'dot.fl.api-e2e.test' };
let token: string;
let fsToken: string;
let dotToken: string;

/** Routing-key segment encoding (wire-formats.md §1) for the realms used here. */
const enc = (s: string) => s.replace(/\./g, '%2E');

const ts = nowS() - 10;

beforeAll(async () => {
  h = await startIngest();
  api = await startApi();
  tap = await CommandTap.open();
  token = (await accountWithToken(api, FL)).token;
  fsToken = (await accountWithToken(api, FSA)).token;
  await accountWithToken(api, OTHER);
  dotToken = (await accountWithToken(api, DOT)).token;
  const k = (realm: string, username: string, accountId: string, contact?: string) =>
    kazooBinding({
      realm,
      username,
      accountId,
      contact,
      callId: `${username}-${contact ?? ''}`,
      ts,
    });
  const us = Date.now() * 1000;
  await h.broker.publish([
    k(FL.realm, 'f100', FL.id, '<sip:f100@10.3.0.1:5060>'),
    k(FL.realm, 'f100', FL.id, '<sip:f100@10.3.0.2:5060>'),
    k(FL.realm, 'f101', FL.id),
    k(FL.realm, 'f102', FL.id),
    k(FL.realm, 'f103', FL.id),
    k(FL.realm, 'f104', FL.id),
    k(REALM2, 'f200', FL.id),
    k(OTHER.realm, 'o500', OTHER.id),
    k(FSA.realm, 'k310', FSA.id),
    k(DOT.realm, 'john.doe', DOT.id),
    k(DOT.realm, '+15551234', DOT.id),
    freeswitch({ subclass: 'sofia::register', realm: FSA.realm, username: 'fs300', us }),
    freeswitch({ subclass: 'sofia::register', realm: FSA.realm, username: 'fs301', us }),
    freeswitch({ subclass: 'sofia::register', realm: FSA.realm, username: 'fs302', us }),
  ]);
  await waitForLive(h.pool, FL.id, 7);
  await waitForLive(h.pool, OTHER.id, 1);
  await waitForLive(h.pool, FSA.id, 4);
  await waitForLive(h.pool, DOT.id, 2);
});

afterAll(async () => {
  await tap?.close();
  await api?.close();
  await h?.stop();
});

const LIST = (id: string) => `/v2/accounts/${id}/registrations`;

async function del(path: string, tok = token) {
  await tap.takeAll(); // start from empty test queues
  const res = await http(api.url, 'DELETE', path, { token: tok });
  // The API answers after the broker confirmed: everything it published is already queued.
  return { res, cmds: await tap.takeAll() };
}

async function usernames(id: string, tok = token): Promise<string[]> {
  const res = await http(api.url, 'GET', LIST(id), { token: tok });
  expectEnvelope(res, { status: 200, token: tok });
  return res.json.data.map((i: { username: string }) => i.username).sort();
}

function expectRegFlush(c: TappedCommand, realm: string, username?: string) {
  expect(c.exchange).toBe('registrar');
  expect(c.routingKey).toBe(`registration.flush.${enc(realm)}`);
  expect(c.contentType).toBe('application/json');
  expect(c.json).toMatchObject({
    'Event-Category': 'directory',
    'Event-Name': 'reg_flush',
    Realm: realm,
  });
  for (const key of ['App-Name', 'App-Version', 'Msg-ID'])
    expect({ key, type: typeof c.json[key] }).toEqual({ key, type: 'string' });
  if (username === undefined) {
    // "all": no Username key at all (Kamailio would read an empty one as a user).
    expect(Object.keys(c.json)).not.toContain('Username');
  } else {
    expect(c.json.Username).toBe(username);
  }
}

describe('DELETE …/registrations/{USERNAME} (Kamailio bindings)', () => {
  it('publishes one reg_flush with Realm and Username and, as Kazoo does, a check-sync NOTIFY; the binding is gone from the next GET', async () => {
    const { res, cmds } = await del(`${LIST(FL.id)}/f101`);
    const b = expectEnvelope(res, { status: 200, token });
    expect(b.data).toBe('ok');
    expect(cmds.registrar).toHaveLength(1);
    expectRegFlush(cmds.registrar[0], FL.realm, 'f101');
    expect(cmds.tapCommands).toEqual([]);
    // crossbar_util:flush_registration/2 publishes check-sync with every one-user flush.
    expect(cmds.switch.map((c) => [c.exchange, c.routingKey, c.json])).toEqual([
      [
        'switch',
        `switch.notify.${enc(FL.realm)}.f101`,
        expect.objectContaining({ Event: 'check-sync', Realm: FL.realm, Username: 'f101' }),
      ],
    ]);
    // No waiting: the flush is in the store before the answer.
    expect(await usernames(FL.id)).toEqual(['f100', 'f100', 'f102', 'f103', 'f104', 'f200']);
    const count = await http(api.url, 'GET', `${LIST(FL.id)}/count`, { token });
    expect(count.json.data).toEqual({ count: 6 });
    expect(await historyOf(h.pool, FL.id)).toEqual([
      expect.objectContaining({ username: 'f101', realm: FL.realm, end_reason: 'flushed' }),
    ]);
  });

  it('a username on two phones: one reg_flush for the AOR, both bindings end', async () => {
    const { res, cmds } = await del(`${LIST(FL.id)}/f100`);
    expect(expectEnvelope(res, { status: 200, token }).data).toBe('ok');
    expect(cmds.registrar).toHaveLength(1);
    expectRegFlush(cmds.registrar[0], FL.realm, 'f100');
    expect(await usernames(FL.id)).toEqual(['f102', 'f103', 'f104', 'f200']);
    const hist = (await historyOf(h.pool, FL.id)).filter((r) => r.username === 'f100');
    expect(hist.map((r) => [r.contact_uri, r.end_reason]).sort()).toEqual([
      ['sip:f100@10.3.0.1:5060', 'flushed'],
      ['sip:f100@10.3.0.2:5060', 'flushed'],
    ]);
  });

  it('check_sync=true also publishes the check-sync NOTIFY request on `switch`', async () => {
    const { res, cmds } = await del(`${LIST(FL.id)}/f102?check_sync=true`);
    expect(expectEnvelope(res, { status: 200, token }).data).toBe('ok');
    expect(cmds.registrar).toHaveLength(1);
    expectRegFlush(cmds.registrar[0], FL.realm, 'f102');
    expect(cmds.switch).toHaveLength(1);
    const [notify] = cmds.switch;
    expect(notify.exchange).toBe('switch');
    expect(notify.routingKey).toBe(`switch.notify.${enc(FL.realm)}.f102`);
    expect(notify.json).toMatchObject({ Username: 'f102', Realm: FL.realm, Event: 'check-sync' });
    expect(await usernames(FL.id)).not.toContain('f102');
  });

  it('check_sync=false (or 0) publishes no NOTIFY; a check_sync that is not a boolean is a 400 and flushes nothing', async () => {
    const bad = await del(`${LIST(FL.id)}/f103?check_sync=maybe`);
    expectValidationError(bad.res, 'check_sync', token);
    expect(bad.cmds).toEqual({ registrar: [], tapCommands: [], switch: [] });
    expect(await usernames(FL.id)).toContain('f103');

    const { res, cmds } = await del(`${LIST(FL.id)}/f103?check_sync=false`);
    expect(expectEnvelope(res, { status: 200, token }).data).toBe('ok');
    expect(cmds.registrar).toHaveLength(1);
    expectRegFlush(cmds.registrar[0], FL.realm, 'f103');
    expect(cmds.switch).toEqual([]);

    const zero = await del(`${LIST(FL.id)}/f104?check_sync=0`);
    expect(expectEnvelope(zero.res, { status: 200, token }).data).toBe('ok');
    expect(zero.cmds.registrar).toHaveLength(1);
    expectRegFlush(zero.cmds.registrar[0], FL.realm, 'f104');
    expect(zero.cmds.switch).toEqual([]);
  });

  it('a username the account never had: 404 as crossbar_util:response_bad_identifier/2 (message "bad identifier", data [username]), nothing published', async () => {
    const before = await liveCount(h.pool);
    const { res, cmds } = await del(`${LIST(FL.id)}/nobody`);
    expectKazooError(res, 404, 'bad identifier', ['nobody'], { token });
    expect(cmds).toEqual({ registrar: [], tapCommands: [], switch: [] });
    expect(await liveCount(h.pool)).toBe(before);
  });

  it("another account's username is unknown here: 404, and its binding stays", async () => {
    const { res, cmds } = await del(`${LIST(FL.id)}/o500`);
    expectKazooError(res, 404, 'bad identifier', ['o500'], { token });
    expect(cmds).toEqual({ registrar: [], tapCommands: [], switch: [] });
    expect(await liveCount(h.pool, OTHER.id)).toBe(1);
  });

  it('a refresh sent before the flush but arriving after it does not bring the binding back', async () => {
    // f103 was flushed above; its proxy had published a refresh (older timestamp) just before.
    await h.broker.publish([
      kazooBinding({
        realm: FL.realm,
        username: 'f103',
        accountId: FL.id,
        ts: ts + 1,
        first: false,
      }),
      // A marker behind it on the same queue: once the marker is stored, so is the late refresh.
      kazooBinding({ realm: OTHER.realm, username: 'marker', accountId: OTHER.id, ts: nowS() }),
    ]);
    await waitForLive(h.pool, OTHER.id, 2);
    expect(await usernames(FL.id)).not.toContain('f103');
  });

  it('a phone that registers again after the flush reappears', async () => {
    const again = nowS();
    await h.broker.publish([
      kazooBinding({ realm: FL.realm, username: 'f101', accountId: FL.id, ts: again }),
    ]);
    const res = await eventually(
      () => http(api.url, 'GET', LIST(FL.id), { token }),
      (r) => r.json?.data?.some((i: { username: string }) => i.username === 'f101'),
      { what: 'f101 listed again' },
    );
    const f101 = res.json.data.find((i: { username: string }) => i.username === 'f101');
    expect(f101).toMatchObject({
      event_timestamp: again + GREGORIAN_OFFSET_S,
      initial_registration: again + GREGORIAN_OFFSET_S,
      last_registration: again + GREGORIAN_OFFSET_S,
    });
  });
});

describe('DELETE …/registrations (every binding of the account)', () => {
  it('publishes ONE reg_flush per realm, Realm only with no Username key; the list is empty at once', async () => {
    const { res, cmds } = await del(LIST(FL.id));
    expect(expectEnvelope(res, { status: 200, token }).data).toBe('ok');
    expect(cmds.registrar).toHaveLength(2);
    const byRealm = new Map(cmds.registrar.map((c) => [c.json.Realm as string, c]));
    expect([...byRealm.keys()].sort()).toEqual([FL.realm, REALM2].sort());
    expectRegFlush(byRealm.get(FL.realm)!, FL.realm);
    expectRegFlush(byRealm.get(REALM2)!, REALM2);
    expect(cmds.tapCommands).toEqual([]);
    expect(cmds.switch).toEqual([]);

    const list = expectEnvelope(await http(api.url, 'GET', LIST(FL.id), { token }), {
      status: 200,
      token,
    });
    expect(list.data).toEqual([]);
    expect(list.page_size).toBe(0);
    const count = await http(api.url, 'GET', `${LIST(FL.id)}/count`, { token });
    expect(count.json.data).toEqual({ count: 0 });
    // Every binding the account ever had ended as flushed: f100 ×2, f101 ×2, f102, f103, f104, f200.
    const hist = await historyOf(h.pool, FL.id);
    expect(hist.map((r) => r.end_reason)).toEqual(Array(8).fill('flushed'));
    expect(hist.map((r) => r.username).sort()).toEqual(
      ['f100', 'f100', 'f101', 'f101', 'f102', 'f103', 'f104', 'f200'].sort(),
    );
    // Other accounts are untouched.
    expect(await liveCount(h.pool, OTHER.id)).toBe(2);
    expect(await liveCount(h.pool, FSA.id)).toBe(4);
  });

  it('a username flushed before is still known: 200, reg_flush with Realm and Username', async () => {
    const { res, cmds } = await del(`${LIST(FL.id)}/f104`);
    expect(expectEnvelope(res, { status: 200, token }).data).toBe('ok');
    expect(cmds.registrar.length).toBeGreaterThanOrEqual(1);
    for (const c of cmds.registrar) expect(c.json.Username).toBe('f104');
  });
});

describe('bindings that came from FreeSWITCH', () => {
  it('DELETE {USERNAME}: the sofia flush_inbound_reg command on TAP.Commands and the check-sync NOTIFY, no reg_flush', async () => {
    const { res, cmds } = await del(`${LIST(FSA.id)}/fs300`, fsToken);
    expect(cmds.switch.map((c) => [c.routingKey, c.json.Event, c.json.Username])).toEqual([
      [`switch.notify.${enc(FSA.realm)}.fs300`, 'check-sync', 'fs300'],
    ]);
    expect(expectEnvelope(res, { status: 200, token: fsToken }).data).toBe('ok');
    expect(cmds.tapCommands).toHaveLength(1);
    const [c] = cmds.tapCommands;
    expect(c.exchange).toBe('TAP.Commands');
    expect(c.routingKey).toBe('commandBindingKey');
    expect(c.contentType).toBe('text/plain');
    expect(c.text).toBe(`sofia profile internal flush_inbound_reg fs300@${FSA.realm}`);
    expect(cmds.registrar).toEqual([]);
    expect(await usernames(FSA.id, fsToken)).toEqual(['fs301', 'fs302', 'k310']);
    expect(await historyOf(h.pool, FSA.id)).toEqual([
      expect.objectContaining({ username: 'fs300', end_reason: 'flushed' }),
    ]);
  });

  it('DELETE all: one command per FreeSWITCH user and one reg_flush (Realm only) for the realm', async () => {
    const { res, cmds } = await del(LIST(FSA.id), fsToken);
    expect(expectEnvelope(res, { status: 200, token: fsToken }).data).toBe('ok');
    expect(cmds.tapCommands.map((c) => [c.routingKey, c.contentType, c.text]).sort()).toEqual([
      [
        'commandBindingKey',
        'text/plain',
        `sofia profile internal flush_inbound_reg fs301@${FSA.realm}`,
      ],
      [
        'commandBindingKey',
        'text/plain',
        `sofia profile internal flush_inbound_reg fs302@${FSA.realm}`,
      ],
    ]);
    expect(cmds.registrar).toHaveLength(1);
    expectRegFlush(cmds.registrar[0], FSA.realm);
    expect(await usernames(FSA.id, fsToken)).toEqual([]);
    expect((await historyOf(h.pool, FSA.id)).map((r) => r.end_reason)).toEqual(
      Array(4).fill('flushed'),
    );
  });
});

describe('usernames that need encoding', () => {
  it('a username with a dot: Username as is in the body, encoded in the check-sync routing key', async () => {
    const { res, cmds } = await del(`${LIST(DOT.id)}/john.doe?check_sync=true`, dotToken);
    expect(expectEnvelope(res, { status: 200, token: dotToken }).data).toBe('ok');
    expect(cmds.registrar).toHaveLength(1);
    expectRegFlush(cmds.registrar[0], DOT.realm, 'john.doe');
    expect(cmds.switch.map((c) => [c.routingKey, c.json.Username, c.json.Realm])).toEqual([
      [`switch.notify.${enc(DOT.realm)}.john%2Edoe`, 'john.doe', DOT.realm],
    ]);
    expect(await usernames(DOT.id, dotToken)).toEqual(['+15551234']);
  });

  it('a URL-encoded username (+15551234 sent as %2B15551234)', async () => {
    const { res, cmds } = await del(`${LIST(DOT.id)}/%2B15551234?check_sync=true`, dotToken);
    expect(expectEnvelope(res, { status: 200, token: dotToken }).data).toBe('ok');
    expect(cmds.registrar).toHaveLength(1);
    expectRegFlush(cmds.registrar[0], DOT.realm, '+15551234');
    expect(cmds.switch.map((c) => c.routingKey)).toEqual([
      `switch.notify.${enc(DOT.realm)}.%2B15551234`,
    ]);
    expect(await usernames(DOT.id, dotToken)).toEqual([]);
  });
});
