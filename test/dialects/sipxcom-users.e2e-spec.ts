// sipXcom scripts authenticating as users (issue 15 point 1): `cli users:create`, then real
// `curl -u` (Basic) and `curl --digest` (RFC 7616, curl picks the first challenge: SHA-256),
// and an RFC 7616 client written here for MD5, replays (same nonce and nc), expired nonces
// (stale=true) and the refusals, each answered 401 with Digest SHA-256, Digest MD5 and Basic
// challenges. API keys as Basic password and X-Auth-Token keep working.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { DialectUserError, DialectUserStore } from '@app/persistence';
import { issueNonce } from '../../apps/api/src/auth/digest';
import { kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { TEST_DATABASE_URL } from '../support/test-env';
import { basic, DialectHarness, TestAccount, xAuth } from './dialect-harness';
import { digestAuthorization, digestChallenge, rawRequest, RawReply } from './digest-client';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const PATH = '/sipxconfig/api/registrations';
const REALM = 'sipxconfig';

let h: DialectHarness;
let acme: TestAccount;
let other: TestAccount;
let store: DialectUserStore;
const suffix = Date.now().toString(36);
const alice = { name: `alice-${suffix}`, password: 'Circle of Life 1' };
const bob = { name: `bob-${suffix}`, password: 'another secret 2' };

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', [
    '-sS',
    '--max-time',
    '30',
    '-o',
    '-',
    '-w',
    '\n%{http_code}',
    ...args,
  ]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

const identities = (body: string) =>
  (JSON.parse(body) as { registrations: { identity: string }[] }).registrations.map(
    (r) => r.identity,
  );

function expectChallenges(r: RawReply, stale = false) {
  expect(r.status).toBe(401);
  expect(r.challenges).toHaveLength(3);
  expect(r.challenges[0]).toMatch(/^Digest realm="sipxconfig", qop="auth", algorithm=SHA-256, /);
  expect(r.challenges[1]).toMatch(/^Digest realm="sipxconfig", qop="auth", algorithm=MD5, /);
  expect(r.challenges[2]).toBe('Basic realm="sipxconfig", charset="UTF-8"');
  for (const c of r.challenges.slice(0, 2)) expect(c.includes('stale=true')).toBe(stale);
  expect(JSON.parse(r.text)).toEqual({
    error: 'unauthorized',
    message: 'missing, unknown or expired credentials',
  });
}

/** A 401 for `uri`, then the Digest answer to its `algorithm` challenge. */
async function digestGet(
  user: { name: string; password: string },
  algorithm: 'MD5' | 'SHA-256',
  uri = PATH,
) {
  const first = await rawRequest(h.url, 'GET', uri);
  expectChallenges(first);
  const nonce = digestChallenge(first.challenges, algorithm).get('nonce')!;
  const answer = (over: { nc?: number; password?: string; nonce?: string; uri?: string } = {}) =>
    rawRequest(h.url, 'GET', over.uri ?? uri, {
      authorization: digestAuthorization({
        username: user.name,
        password: over.password ?? user.password,
        method: 'GET',
        uri: over.uri ?? uri,
        realm: REALM,
        nonce: over.nonce ?? nonce,
        algorithm,
        nc: over.nc,
      }),
    });
  return { nonce, answer };
}

beforeAll(async () => {
  h = await DialectHarness.start('sxu');
  acme = await h.account('acme');
  other = await h.account('other');
  store = h.api.get(DialectUserStore);
  await store.createOrUpdate(other.id, bob.name, bob.password);
  const ts = nowS();
  await h.broker.publish([
    kazoo({ realm: acme.realm, username: '1001', ts }),
    kazoo({ realm: other.realm, username: '2001', ts }),
  ]);
  await eventually(
    async () => [...(await h.liveIds(acme.realm)), ...(await h.liveIds(other.realm))],
    (ids) => ids.length === 2,
    { what: 'the two bindings' },
  );
}, 120_000);

afterAll(async () => {
  await h?.pool.query(`DELETE FROM dialect_users WHERE name LIKE $1`, [`%-${suffix}`]);
  await h?.stop();
});

describe('users:create', () => {
  it('creates a user whose password is kept only as scrypt and Digest HA1 hashes', async () => {
    const { stdout } = await run(
      path.join(ROOT, 'node_modules/.bin/ts-node'),
      [
        '-r',
        'tsconfig-paths/register',
        '--transpile-only',
        'scripts/cli.ts',
        'users:create',
        '--account',
        acme.id,
        '--name',
        alice.name,
        '--password',
        alice.password,
      ],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'warn' } },
    );
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual({
      account_id: acme.id,
      user: alice.name,
    });
    const { rows } = await h.pool.query(
      `SELECT password_hash, digest_realm, encode(ha1_md5, 'hex') AS md5 FROM dialect_users WHERE name = $1`,
      [alice.name],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].password_hash).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(JSON.stringify(rows[0])).not.toContain(alice.password);
    expect(rows[0].digest_realm).toBe(REALM);
  }, 120_000);

  it('refuses a name another account holds, and short passwords', async () => {
    await expect(store.createOrUpdate(acme.id, bob.name, 'long enough 123')).rejects.toThrow(
      DialectUserError,
    );
    await expect(store.createOrUpdate(acme.id, `x-${suffix}`, 'short')).rejects.toThrow(
      /at least 8/,
    );
    await expect(store.createOrUpdate(acme.id, 'has:colon', 'long enough 123')).rejects.toThrow(
      /user name/,
    );
  });
});

describe('real curl', () => {
  it('Basic (-u) as a user sees its own account', async () => {
    const r = await curl(['-u', `${alice.name}:${alice.password}`, h.url + PATH]);
    expect(r.status).toBe(200);
    expect(identities(r.body)).toEqual([`1001@${acme.realm}`]);
    const b = await curl(['-u', `${bob.name}:${bob.password}`, h.url + PATH]);
    expect(identities(b.body)).toEqual([`2001@${other.realm}`]);
  });

  it('--digest answers the SHA-256 challenge, on a path with a query too', async () => {
    const r = await curl(['--digest', '-u', `${alice.name}:${alice.password}`, h.url + PATH]);
    expect(r.status).toBe(200);
    expect(identities(r.body)).toEqual([`1001@${acme.realm}`]);
    const q = await curl([
      '--digest',
      '-u',
      `${alice.name}:${alice.password}`,
      `${h.url}${PATH}/user/1001?start=0&limit=5`,
    ]);
    expect(q.status).toBe(200);
    const { stderr } = await run('curl', [
      '-sS',
      '-v',
      '-o',
      '/dev/null',
      '--digest',
      '-u',
      `${alice.name}:${alice.password}`,
      h.url + PATH,
    ]);
    expect(stderr).toMatch(/> Authorization: Digest .*algorithm=SHA-256/);
    expect(stderr).toMatch(/< HTTP\/1.1 200/);
    // The Digest uri is the path as sent, suffix included (sipxcom-suffix.ts strips it later).
    const xml = await curl([
      '--digest',
      '-u',
      `${alice.name}:${alice.password}`,
      `${h.url}${PATH}.xml`,
    ]);
    expect(xml.status).toBe(200);
    expect(xml.body).toMatch(/^<\?xml /);
  });

  it('--digest and -u with a wrong password get 401', async () => {
    for (const mode of [['--digest'], ['--basic']]) {
      const r = await curl([...mode, '-u', `${alice.name}:wrong password`, h.url + PATH]);
      expect(r.status).toBe(401);
    }
  });
});

describe('Digest by the RFC 7616 client', () => {
  it.each(['MD5', 'SHA-256'] as const)('accepts %s, nc counting up on one nonce', async (alg) => {
    const { answer } = await digestGet(alice, alg);
    const ok = await answer();
    expect(ok.status).toBe(200);
    expect(identities(ok.text)).toEqual([`1001@${acme.realm}`]);
    expect((await answer({ nc: 2 })).status).toBe(200);
  });

  it('refuses a replayed nonce and nc with fresh challenges', async () => {
    const { answer } = await digestGet(alice, 'SHA-256');
    expect((await answer({ nc: 7 })).status).toBe(200);
    expectChallenges(await answer({ nc: 7 }));
    expect((await answer({ nc: 8 })).status).toBe(200);
  });

  it('answers an expired nonce with stale=true, and the new nonce works', async () => {
    const [{ secret }] = (await h.pool.query(`SELECT secret FROM dialect_auth_secret`)).rows;
    const old = issueNonce(secret as Buffer, Date.now() - 301_000);
    const { answer } = await digestGet(alice, 'MD5');
    const stale = await answer({ nonce: old });
    expectChallenges(stale, true);
    // A wrong password with an expired nonce is not "stale": the client must not just retry.
    expectChallenges(await answer({ nonce: old, password: 'wrong password' }), false);
    const fresh = digestChallenge(stale.challenges, 'MD5').get('nonce')!;
    expect((await answer({ nonce: fresh })).status).toBe(200);
  });

  it('refuses a wrong password, an unknown user, a foreign nonce and another URI', async () => {
    const { answer } = await digestGet(alice, 'SHA-256');
    expectChallenges(await answer({ password: 'wrong password' }));
    const stranger = await digestGet({ name: `nobody-${suffix}`, password: 'whatever1' }, 'MD5');
    expectChallenges(await stranger.answer());
    expectChallenges(await answer({ nonce: issueNonce(Buffer.alloc(32, 1)) }));
    // Signed for one URI, sent to another.
    const moved = await rawRequest(h.url, 'GET', `${PATH}/user/1001`, {
      authorization: digestAuthorization({
        username: alice.name,
        password: alice.password,
        method: 'GET',
        uri: PATH,
        realm: REALM,
        nonce: (await digestGet(alice, 'MD5')).nonce,
        algorithm: 'MD5',
      }),
    });
    expectChallenges(moved);
    expectChallenges(
      await rawRequest(h.url, 'GET', PATH, { authorization: 'Digest username="x"' }),
    );
  });
});

describe('Basic and the credentials that came before', () => {
  it('refuses an unknown user and a wrong password with both challenges', async () => {
    const unknown = `Basic ${Buffer.from(`nobody-${suffix}:${alice.password}`).toString('base64')}`;
    expectChallenges(await rawRequest(h.url, 'GET', PATH, { authorization: unknown }));
    const wrong = `Basic ${Buffer.from(`${alice.name}:not it at all`).toString('base64')}`;
    expectChallenges(await rawRequest(h.url, 'GET', PATH, { authorization: wrong }));
    expectChallenges(await rawRequest(h.url, 'GET', PATH));
  });

  it('keeps accepting an API key as the Basic password, and X-Auth-Token', async () => {
    const byKey = await h.request('GET', PATH, basic(acme.apiKey));
    expect(byKey.status).toBe(200);
    expect(identities(byKey.text)).toEqual([`1001@${acme.realm}`]);
    const byToken = await h.request('GET', PATH, xAuth(acme.token));
    expect(identities(byToken.text)).toEqual([`1001@${acme.realm}`]);
    expectChallenges(await rawRequest(h.url, 'GET', PATH, xAuth('not-a-token')));
  });
});
