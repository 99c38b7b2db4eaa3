// docs/examples/nginx-monster-ui.conf, run: nginx in front of a stand-in crossbar and this
// service, as Monster UI would see them. Login goes to "crossbar" (PUT /v2/user_auth answers a
// JWT built as kz_auth_jwt:encode/1 builds it, and GET /v2/auth/keys/{kid} serves the public key
// as cb_auth:load_public_key/2 does); the registrations paths, with that JWT, go to this
// service, which fetches the key by kid through KAZOO_JWT_KEYS_URL. Skipped where nginx is not
// installed (apt-get install nginx-light).
import { ChildProcess, spawn } from 'node:child_process';
import { createSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { accountIdFor, ApiHarness, expectEnvelope, http, startApi } from '../support/api-harness';
import { eventually } from '../support/poll';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const ACCOUNT = { id: accountIdFor('monster-proxy'), name: 'Monster', realm: 'monster.proxy.test' };
const KID = randomBytes(16).toString('hex');
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

function kazooJwt(claims: Record<string, unknown>): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: KID }));
  const payload = b64url(JSON.stringify(claims));
  const sig = createSign('sha256').update(`${header}.${payload}`).sign(keys.privateKey);
  return `${header}.${payload}.${b64url(sig)}`;
}

/** A free TCP port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

(NGINX ? describe : describe.skip)(
  'Monster UI through nginx (docs/examples/nginx-monster-ui.conf)',
  () => {
    let dir: string;
    let crossbar: Server;
    let api: ApiHarness;
    let nginx: ChildProcess | undefined;
    let proxy: string;
    const crossbarSaw: string[] = [];

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'monster-proxy-'));
      crossbar = createServer((req, res) => {
        crossbarSaw.push(`${req.method} ${req.url}`);
        if (req.method === 'PUT' && req.url === '/v2/user_auth') {
          const token = kazooJwt({
            iss: 'kazoo',
            identity_sig: b64url(randomBytes(32)),
            account_id: ACCOUNT.id,
            owner_id: randomBytes(16).toString('hex'),
            method: 'cb_user_auth',
            exp: Math.floor(Date.now() / 1000) + 3600,
          });
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              auth_token: token,
              data: { account_id: ACCOUNT.id },
              status: 'success',
            }),
          );
        } else if (req.url === `/v2/auth/keys/${KID}`) {
          res.writeHead(200, { 'content-type': 'application/x-pem-file' });
          res.end(keys.publicKey.export({ type: 'pkcs1', format: 'pem' }));
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"status":"error","error":"404"}');
        }
      });
      await new Promise<void>((r) => crossbar.listen(0, '127.0.0.1', r));
      const crossbarPort = (crossbar.address() as AddressInfo).port;
      api = await startApi({
        KAZOO_JWT_KEYS_URL: `http://127.0.0.1:${crossbarPort}/v2/auth/keys/{kid}`,
      });
      await api.accounts.createOrAdopt(ACCOUNT);
      const apiPort = new URL(api.url).port;
      const template = readFileSync(
        resolve(__dirname, '../../docs/examples/nginx-monster-ui.conf'),
        'utf8',
      );
      // The free port found may be taken again before nginx binds it: then another one.
      for (let attempt = 1; ; attempt++) {
        const proxyPort = await freePort();
        proxy = `http://127.0.0.1:${proxyPort}`;
        const conf = template
          .replace('server 127.0.0.1:8000;', `server 127.0.0.1:${crossbarPort};`)
          .replace('server 127.0.0.1:18000;', `server 127.0.0.1:${apiPort};`)
          .replace('listen 8443;', `listen 127.0.0.1:${proxyPort};`)
          .replaceAll('/tmp/nginx-monster-ui', join(dir, 'nginx'));
        writeFileSync(join(dir, 'nginx.conf'), conf);
        const child = spawn(
          NGINX!,
          ['-e', 'stderr', '-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        );
        nginx = child;
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        const up = await eventually(
          async () => {
            if (child.exitCode !== null) return 'exited';
            return fetch(`${proxy}/nothing-here`).then((r) => r.status);
          },
          (s) => s === 404 || s === 'exited',
          { what: `nginx on ${proxy}` },
        );
        if (up === 404) break;
        if (attempt >= 3) throw new Error(`nginx did not start: ${stderr}`);
      }
    });

    afterAll(async () => {
      if (nginx && nginx.exitCode === null) {
        const exited = new Promise((r) => nginx!.once('exit', r));
        nginx.kill('SIGQUIT');
        await exited;
      }
      await api?.close();
      await new Promise((r) => (crossbar ? crossbar.close(r) : r(undefined)));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('logs in at crossbar and lists registrations at this service with crossbar’s token', async () => {
      const login = await http(proxy, 'PUT', '/v2/user_auth', {
        body: { data: { credentials: 'md5-of-user-and-password', account_name: 'Monster' } },
      });
      expect(login.status).toBe(201);
      const token = login.json.auth_token as string;
      const list = await http(proxy, 'GET', `/v2/accounts/${ACCOUNT.id}/registrations`, { token });
      expect(expectEnvelope(list, { status: 200, token }).data).toEqual([]);
      const count = await http(proxy, 'GET', `/v1/accounts/${ACCOUNT.id}/registrations/count`, {
        token,
      });
      expect(expectEnvelope(count, { status: 200, token }).data).toEqual({ count: 0 });
      // Everything else went to crossbar: the login and the key, nothing of the registrations.
      expect(crossbarSaw).toContain('PUT /v2/user_auth');
      expect(crossbarSaw).toContain(`GET /v2/auth/keys/${KID}`);
      expect(crossbarSaw.filter((r) => r.includes('registrations'))).toEqual([]);
    });
  },
);
