// Kazoo's own tokens, accepted unchanged. Each token is built byte for byte as kazoo_auth
// builds it (test/support/kazoo-jwt-token.ts, citing kz_auth_jwt.erl). The public key is served as cb_auth:load_public_key/2 serves it:
// a PKCS#1 "RSA PUBLIC KEY" PEM, Content-Type application/x-pem-file.
import { createHmac, createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accountIdFor,
  accountWithToken,
  ApiHarness,
  expectEnvelope,
  expectKazooError,
  http,
  startApi,
} from '../support/api-harness';
import { b64url, claimsFor, kazooJwt, nowS } from '../support/kazoo-jwt-token';

const KID_FILE = randomBytes(16).toString('hex');
const KID_URL = randomBytes(16).toString('hex');
const ROOT = { id: accountIdFor('jwt-root'), name: 'JWT Root', realm: 'root.jwt.api-e2e.test' };
const PARENT = {
  id: accountIdFor('jwt-parent'),
  name: 'JWT Parent',
  realm: 'parent.jwt.api-e2e.test',
};
const CHILD = { id: accountIdFor('jwt-child'), name: 'JWT Child', realm: 'child.jwt.api-e2e.test' };
const OTHER = { id: accountIdFor('jwt-other'), name: 'JWT Other', realm: 'other.jwt.api-e2e.test' };

const fileKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const urlKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
let dir: string;
let keyServer: Server;
const keyRequests: string[] = [];
let api: ApiHarness;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kazoo-jwt-'));
  writeFileSync(
    join(dir, `${KID_FILE}.pem`),
    fileKeys.publicKey.export({ type: 'pkcs1', format: 'pem' }),
  );
  // crossbar's GET /v2/auth/keys/{kid} with Accept: application/x-pem-file (cb_auth).
  keyServer = createServer((req, res) => {
    keyRequests.push(`${req.url} ${req.headers.accept} ${String(req.headers['x-auth-token'])}`);
    if (req.url === `/v2/auth/keys/${KID_URL}`) {
      res.writeHead(200, { 'content-type': 'application/x-pem-file' });
      res.end(urlKeys.publicKey.export({ type: 'pkcs1', format: 'pem' }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"status":"error","error":"404","message":"bad_identifier"}');
    }
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  const port = (keyServer.address() as AddressInfo).port;
  api = await startApi({
    KAZOO_JWT_PUBLIC_KEYS: join(dir, `${KID_FILE}.pem`),
    KAZOO_JWT_KEYS_URL: `http://127.0.0.1:${port}/v2/auth/keys/{kid}`,
    KAZOO_JWT_KEYS_AUTH_TOKEN: 'admin-token-for-keys',
  });
  await api.accounts.createOrAdopt({ ...ROOT, isSuperadmin: true });
  await api.accounts.createOrAdopt({ ...PARENT, parentId: ROOT.id });
  await api.accounts.createOrAdopt({ ...CHILD, parentId: PARENT.id });
  await api.accounts.createOrAdopt(OTHER);
});

afterAll(async () => {
  await api?.close();
  await new Promise((resolve) => (keyServer ? keyServer.close(resolve) : resolve(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const list = (accountId: string, token: string) =>
  http(api.url, 'GET', `/v2/accounts/${accountId}/registrations`, { token });

function expect401(res: Awaited<ReturnType<typeof list>>) {
  expectKazooError(res, 401, 'invalid_credentials', { message: 'invalid credentials' });
}

describe('a Kazoo token signed by a key named in KAZOO_JWT_PUBLIC_KEYS', () => {
  it.each(['RS256', 'RS384', 'RS512'] as const)(
    '%s: acts for its account_id and the accounts below it, as our own tokens do',
    async (alg) => {
      const token = kazooJwt(fileKeys.privateKey, KID_FILE, claimsFor(PARENT.id), alg);
      expectEnvelope(await list(PARENT.id, token), { status: 200, token });
      expectEnvelope(await list(CHILD.id, token), { status: 200, token });
      for (const denied of [ROOT.id, OTHER.id])
        expectKazooError(await list(denied, token), 403, 'forbidden', { message: 'forbidden' });
    },
  );

  it('a token of the super-admin account acts everywhere (GET /v2/registrations/count)', async () => {
    const token = kazooJwt(fileKeys.privateKey, KID_FILE, claimsFor(ROOT.id));
    const res = await http(api.url, 'GET', '/v2/registrations/count', { token });
    expect(expectEnvelope(res, { status: 200, token }).data).toEqual({
      count: expect.any(Number),
    });
    expectEnvelope(await list(OTHER.id, token), { status: 200, token });
  });

  it('is also taken as Authorization: Bearer and ?auth_token=', async () => {
    const token = kazooJwt(fileKeys.privateKey, KID_FILE, claimsFor(CHILD.id));
    const bearer = await http(api.url, 'GET', `/v2/accounts/${CHILD.id}/registrations/count`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expectEnvelope(bearer, { status: 200 });
    const query = await http(
      api.url,
      'GET',
      `/v2/accounts/${CHILD.id}/registrations/count?auth_token=${token}`,
    );
    expectEnvelope(query, { status: 200 });
  });
});

describe('a Kazoo token whose key is fetched from KAZOO_JWT_KEYS_URL by kid', () => {
  it('is verified with the key crossbar serves, fetched once and cached', async () => {
    const before = keyRequests.filter((r) => r.includes(KID_URL)).length;
    for (let i = 0; i < 3; i++) {
      const token = kazooJwt(urlKeys.privateKey, KID_URL, claimsFor(PARENT.id));
      expectEnvelope(await list(PARENT.id, token), { status: 200, token });
    }
    const fetched = keyRequests.filter((r) => r.includes(KID_URL));
    expect(fetched.length - before).toBeLessThanOrEqual(1);
    expect(fetched[0]).toBe(`/v2/auth/keys/${KID_URL} application/x-pem-file admin-token-for-keys`);
  });
});

describe('refused with 401 in Kazoo envelope (kz_auth_jwt:verify_header/1, verify_signature/1, verify_expiration/1)', () => {
  it('alg "none" (not in ?ALGORITHMS)', async () => {
    const header = b64url(JSON.stringify({ alg: 'none', typ: 'JWT', kid: KID_FILE }));
    const token = `${header}.${b64url(JSON.stringify(claimsFor(PARENT.id)))}.`;
    expect401(await list(PARENT.id, token));
  });

  it('HS256 keyed with the public key PEM (the classic algorithm confusion)', async () => {
    const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: KID_FILE }));
    const payload = b64url(JSON.stringify(claimsFor(PARENT.id)));
    const secret = fileKeys.publicKey.export({ type: 'pkcs1', format: 'pem' });
    const sig = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
    expect401(await list(PARENT.id, `${header}.${payload}.${b64url(sig)}`));
  });

  it('a tampered payload (account_id changed to the super-admin after signing)', async () => {
    const [h, , s] = kazooJwt(fileKeys.privateKey, KID_FILE, claimsFor(PARENT.id)).split('.');
    const forged = `${h}.${b64url(JSON.stringify(claimsFor(ROOT.id)))}.${s}`;
    expect401(await list(PARENT.id, forged));
    expect401(await list(ROOT.id, forged));
  });

  it('an unknown kid (neither a file nor known to crossbar), and no kid at all', async () => {
    const unknown = randomBytes(16).toString('hex');
    expect401(await list(PARENT.id, kazooJwt(fileKeys.privateKey, unknown, claimsFor(PARENT.id))));
    const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    const payload = b64url(JSON.stringify(claimsFor(PARENT.id)));
    const sig = createSign('sha256').update(`${header}.${payload}`).sign(fileKeys.privateKey);
    expect401(await list(PARENT.id, `${header}.${payload}.${b64url(sig)}`));
  });

  it('signed by another key under a known kid', async () => {
    expect401(await list(PARENT.id, kazooJwt(urlKeys.privateKey, KID_FILE, claimsFor(PARENT.id))));
  });

  it('expired (exp in the past), or without exp', async () => {
    const expired = claimsFor(PARENT.id, { exp: nowS() - 5 });
    expect401(await list(PARENT.id, kazooJwt(fileKeys.privateKey, KID_FILE, expired)));
    const noExp: Record<string, unknown> = claimsFor(PARENT.id);
    delete noExp.exp;
    expect401(await list(PARENT.id, kazooJwt(fileKeys.privateKey, KID_FILE, noExp)));
  });

  it('another issuer, or no usable account_id', async () => {
    const other = claimsFor(PARENT.id, { iss: 'someone-else' });
    expect401(await list(PARENT.id, kazooJwt(fileKeys.privateKey, KID_FILE, other)));
    const bad = claimsFor('not-an-account-id');
    expect401(await list(PARENT.id, kazooJwt(fileKeys.privateKey, KID_FILE, bad)));
  });

  it('garbage that looks like a JWT', async () => {
    expect401(await list(PARENT.id, 'eyJhbGciOiJSUzI1NiJ9.e30.AAAA'));
    expect401(await list(PARENT.id, 'a.b.c'));
  });
});

it("the product's own tokens keep working beside Kazoo's", async () => {
  const own = await accountWithToken(api, {
    id: accountIdFor('jwt-own'),
    name: 'JWT Own',
    realm: 'own.jwt.api-e2e.test',
  });
  expectEnvelope(await list(own.id, own.token), { status: 200, token: own.token });
});
