// The authorization matrix of the Kazoo API: every endpoint × every kind of caller × every
// kind of target account → the expected status, each error in Kazoo's envelope, and never a
// binding (realm, username or account name) of an account the caller may not see in a body.
//
// Accounts:  root (super-admin) ─┬─ parent ─┬─ child ── grand
//                                │          └─ sibling
//            foreign (another tree)
import {
  accountIdFor,
  accountWithToken,
  ApiHarness,
  expectEnvelope,
  expectKazooError,
  expiredToken,
  http,
  HttpResult,
  startApi,
} from '../support/api-harness';
import { kazooBinding, liveCount, waitForLive } from '../support/api-fixtures';
import { CommandTap } from '../support/command-tap';
import { startIngest, Harness } from '../support/ingest-harness';
import { nowS } from '../support/messages';

type Label = 'root' | 'parent' | 'child' | 'grand' | 'sibling' | 'foreign';
type Caller = 'none' | 'bad' | 'expired' | 'root' | 'parent' | 'child' | 'sibling' | 'foreign';
type Target = Label | 'unknown';

const PARENT_OF: Record<Label, Label | null> = {
  root: null,
  parent: 'root',
  child: 'parent',
  grand: 'child',
  sibling: 'parent',
  foreign: null,
};
const LABELS = Object.keys(PARENT_OF) as Label[];
const CALLERS: Caller[] = [
  'none',
  'bad',
  'expired',
  'root',
  'parent',
  'child',
  'sibling',
  'foreign',
];
const TARGETS: Target[] = [...LABELS, 'unknown'];

const ACC = Object.fromEntries(
  LABELS.map((l) => [
    l,
    {
      id: accountIdFor(`authz-${l}`),
      name: `Name-${l}-acct`,
      realm: `${l}-realm.authz.api-e2e.test`,
      users: [`${l}-u1`, `${l}-u2`, `${l}-ux`],
    },
  ]),
) as Record<Label, { id: string; name: string; realm: string; users: string[] }>;
const UNKNOWN_ID = accountIdFor('authz-nobody-has-this');
const idOf = (t: Target) => (t === 'unknown' ? UNKNOWN_ID : ACC[t].id);

/** The accounts a caller may act on: itself and its descendants (every account for root). */
function visible(caller: Caller): Label[] {
  if (caller === 'none' || caller === 'bad' || caller === 'expired') return [];
  if (caller === 'root') return LABELS;
  return LABELS.filter((l) => {
    for (let a: Label | null = l; a; a = PARENT_OF[a]) if (a === caller) return true;
    return false;
  });
}

function expectedStatus(caller: Caller, target: Target): number {
  if (caller === 'none' || caller === 'bad' || caller === 'expired') return 401;
  if (target === 'unknown') return caller === 'root' ? 404 : 403;
  return visible(caller).includes(target) ? 200 : 403;
}

let h: Harness;
let api: ApiHarness;
let tap: CommandTap;
const tokens: Partial<Record<Caller, string>> = {};

beforeAll(async () => {
  h = await startIngest();
  api = await startApi();
  tap = await CommandTap.open();
  for (const l of LABELS) {
    const parent = PARENT_OF[l];
    const { token } = await accountWithToken(api, {
      id: ACC[l].id,
      name: ACC[l].name,
      realm: ACC[l].realm,
      parentId: parent ? ACC[parent].id : undefined,
      isSuperadmin: l === 'root',
    });
    if ((CALLERS as string[]).includes(l)) tokens[l as Caller] = token;
  }
  tokens.bad = 'bad-token-' + 'x'.repeat(40);
  tokens.expired = await expiredToken(h.pool, ACC.parent.id);
  const ts = nowS() - 5;
  await h.broker.publish(
    LABELS.flatMap((l) =>
      ACC[l].users.map((u) =>
        kazooBinding({ realm: ACC[l].realm, username: u, accountId: ACC[l].id, ts }),
      ),
    ),
  );
  for (const l of LABELS) await waitForLive(h.pool, ACC[l].id, 3);
});

afterAll(async () => {
  await tap?.close();
  await api?.close();
  await h?.stop();
});

/** No realm, username or account name of an account the caller may not see, anywhere in the body. */
function expectNothingForeign(caller: Caller, res: HttpResult) {
  const allowed = new Set(visible(caller));
  for (const l of LABELS) {
    if (allowed.has(l)) continue;
    for (const marker of [ACC[l].realm, ACC[l].name, ...ACC[l].users])
      expect({ caller, leaked: res.text.includes(marker) ? marker : null }).toEqual({
        caller,
        leaked: null,
      });
  }
}

async function call(method: string, path: string, caller: Caller): Promise<HttpResult> {
  const res = await http(api.url, method, path, { token: tokens[caller] });
  expectNothingForeign(caller, res);
  return res;
}

function expectDenied(res: HttpResult, status: number, caller: Caller, target?: Target) {
  if (status === 401)
    expectKazooError(res, 401, 'invalid_credentials', { message: 'invalid credentials' });
  else if (status === 403)
    expectKazooError(res, 403, 'forbidden', { message: 'forbidden' }, { token: tokens[caller] });
  else if (status === 404)
    expectKazooError(
      res,
      404,
      'bad_identifier',
      { cause: target === 'unknown' ? UNKNOWN_ID : expect.any(String), message: 'bad identifier' },
      { token: tokens[caller] },
    );
  else throw new Error(`unexpected denial ${status}`);
}

const table = CALLERS.flatMap((caller) =>
  TARGETS.map((target) => ({ caller, target, status: expectedStatus(caller, target) })),
);
/** DELETEs change the data: run the refused ones first, while every binding is still there. */
const deleteTable = [
  ...table.filter((r) => r.status !== 200),
  ...table.filter((r) => r.status === 200),
];

describe('GET /v2/accounts/{ACCOUNT_ID}/registrations', () => {
  it.each(table)('$caller on $target → $status', async ({ caller, target, status }) => {
    const res = await call('GET', `/v2/accounts/${idOf(target)}/registrations`, caller);
    if (status !== 200) return expectDenied(res, status, caller, target);
    const b = expectEnvelope(res, { status: 200, token: tokens[caller] });
    const t = ACC[target as Label];
    // Exactly the target's own bindings (not its descendants'), and the target's only.
    expect(b.data.map((i: { username: string }) => i.username).sort()).toEqual([...t.users].sort());
    for (const i of b.data) {
      expect(i.realm).toBe(t.realm);
      expect(i.account_realm).toBe(t.realm);
      expect(i.account_name).toBe(t.name);
    }
  });
});

describe('GET /v2/accounts/{ACCOUNT_ID}/registrations/count', () => {
  it.each(table)('$caller on $target → $status', async ({ caller, target, status }) => {
    const res = await call('GET', `/v2/accounts/${idOf(target)}/registrations/count`, caller);
    if (status !== 200) return expectDenied(res, status, caller, target);
    const b = expectEnvelope(res, { status: 200, token: tokens[caller] });
    expect(b.data).toEqual({ count: 3 });
  });
});

describe('GET /v2/registrations/count (super-admin only)', () => {
  it.each(
    CALLERS.map((caller) => ({
      caller,
      status: caller === 'root' ? 200 : ['none', 'bad', 'expired'].includes(caller) ? 401 : 403,
    })),
  )('$caller → $status', async ({ caller, status }) => {
    const res = await call('GET', '/v2/registrations/count', caller);
    if (status !== 200) return expectDenied(res, status, caller);
    const b = expectEnvelope(res, { status: 200, token: tokens[caller] });
    expect(b.data).toEqual({ count: await liveCount(h.pool) });
    expect(b.data.count).toBe(LABELS.length * 3);
  });
});

async function expectNothingFlushed(target: Target, before: number) {
  const cmds = await tap.takeAll();
  expect(cmds).toEqual({ registrar: [], tapCommands: [], switch: [] });
  if (target !== 'unknown') expect(await liveCount(h.pool, ACC[target].id)).toBe(before);
}

describe('DELETE /v2/accounts/{ACCOUNT_ID}/registrations/{USERNAME}', () => {
  it.each(deleteTable)('$caller on $target → $status', async ({ caller, target, status }) => {
    await tap.takeAll();
    const before = target === 'unknown' ? 0 : await liveCount(h.pool, ACC[target].id);
    const user = target === 'unknown' ? 'someone' : ACC[target].users[2];
    const res = await call('DELETE', `/v2/accounts/${idOf(target)}/registrations/${user}`, caller);
    if (status !== 200) {
      expectDenied(res, status, caller, target);
      return expectNothingFlushed(target, before);
    }
    expect(expectEnvelope(res, { status: 200, token: tokens[caller] }).data).toBe('ok');
    const cmds = await tap.takeAll();
    expect(cmds.registrar.length).toBeGreaterThanOrEqual(1);
    for (const c of cmds.registrar) {
      expect(c.json.Realm).toBe(ACC[target as Label].realm);
      expect(c.json.Username).toBe(user);
    }
    // Only that user of the target ended.
    const { rows } = await h.pool.query(
      `SELECT username FROM registrations WHERE account_id = $1 AND ended_at IS NULL ORDER BY username`,
      [ACC[target as Label].id],
    );
    expect(rows.map((r) => r.username)).not.toContain(user);
  });
});

describe('DELETE /v2/accounts/{ACCOUNT_ID}/registrations', () => {
  it.each(deleteTable)('$caller on $target → $status', async ({ caller, target, status }) => {
    await tap.takeAll();
    const before = target === 'unknown' ? 0 : await liveCount(h.pool, ACC[target].id);
    const othersBefore = await liveCount(h.pool);
    const res = await call('DELETE', `/v2/accounts/${idOf(target)}/registrations`, caller);
    if (status !== 200) {
      expectDenied(res, status, caller, target);
      await expectNothingFlushed(target, before);
      expect(await liveCount(h.pool)).toBe(othersBefore);
      return;
    }
    expect(expectEnvelope(res, { status: 200, token: tokens[caller] }).data).toBe('ok');
    const t = ACC[target as Label];
    const cmds = await tap.takeAll();
    // Only the target's realm is flushed, never a parent's or a descendant's.
    expect(cmds.registrar.map((c) => c.json.Realm)).toEqual([t.realm]);
    expect(Object.keys(cmds.registrar[0].json)).not.toContain('Username');
    expect(await liveCount(h.pool, t.id)).toBe(0);
    expect(await liveCount(h.pool)).toBe(othersBefore - before);
  });
});

describe('bearer alternatives are held to the same rules', () => {
  it("child's token as Authorization: Bearer on the parent → 403; on itself → 200", async () => {
    const denied = await http(api.url, 'GET', `/v2/accounts/${ACC.parent.id}/registrations/count`, {
      headers: { authorization: `Bearer ${tokens.child}` },
    });
    expectKazooError(denied, 403, 'forbidden', { message: 'forbidden' });
    const ok = await http(api.url, 'GET', `/v2/accounts/${ACC.child.id}/registrations/count`, {
      headers: { authorization: `Bearer ${tokens.child}` },
    });
    expectEnvelope(ok, { status: 200 });
  });

  it('an expired token is refused as a Bearer token and as ?auth_token= too', async () => {
    const path = `/v2/accounts/${ACC.parent.id}/registrations/count`;
    expectKazooError(
      await http(api.url, 'GET', path, { headers: { authorization: `Bearer ${tokens.expired}` } }),
      401,
      'invalid_credentials',
      { message: 'invalid credentials' },
    );
    expectKazooError(
      await http(api.url, 'GET', `${path}?auth_token=${encodeURIComponent(tokens.expired!)}`),
      401,
      'invalid_credentials',
      { message: 'invalid credentials' },
    );
  });
});
