// The life cycle of credentials: the CLI revokes an API key (and every token it bought), one
// token, or all of an account's tokens, and the API refuses them within its credential cache
// time (5 s; polled here with a deadline); PUT /v2/api_auth is rate limited per client and per
// key, answering 429 in Kazoo's envelope with Retry-After (crossbar's cb_api_auth consume_tokens
// → cb_context:add_system_error('too_many_requests'): 429, message too_many_requests, data
// {"message": "too many requests"}). The CLI runs as a child process, as an operator runs it.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { accountIdFor, ApiHarness, expectKazooError, http, startApi } from '../support/api-harness';
import { testPool } from '../support/database';
import { eventually } from '../support/poll';
import { TEST_DATABASE_URL } from '../support/test-env';

const ROOT = path.resolve(__dirname, '../..');
const PER_CLIENT = 3;
const PER_KEY = 2;

let api: ApiHarness;
let pool: Pool;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `npm run cli -- …args`, as a child process against the test database. A child that could not
 * be started at all (EAGAIN on a loaded machine: `error.code` is then a string, not an exit
 * code) is started again.
 */
async function cli(...args: string[]): Promise<CliResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await runCli(args);
    if (r.code !== 'spawn_failed' || attempt >= 3)
      return { ...r, code: r.code === 'spawn_failed' ? -1 : r.code };
  }
}

function runCli(
  args: string[],
): Promise<Omit<CliResult, 'code'> & { code: number | 'spawn_failed' }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'scripts/cli.ts',
        // As `npm run cli` does: keeps the arguments from tsconfig-paths' own -P parsing.
        '--',
        ...args,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, LOG_LEVEL: 'warn' },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({
          code: !error
            ? 0
            : typeof error.code === 'number'
              ? error.code
              : error.signal
                ? -1
                : 'spawn_failed',
          stdout,
          stderr: stderr + (error && typeof error.code !== 'number' ? `\n${error.message}` : ''),
        }),
    );
  });
}

/** The exit code, with what the CLI said when it is not the one expected. */
function expectExit(r: CliResult, code: number) {
  expect({ code: r.code, said: r.code === code ? '' : r.stderr }).toEqual({ code, said: '' });
}

const lastJsonLine = (r: CliResult) => {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
};

let n = 0;
/**
 * A fresh account of this file with a key and a token (bought from the store, not through
 * PUT /v2/api_auth, whose rate limit this file sets low).
 */
async function freshAccount(label: string) {
  const id = accountIdFor(`credentials-${label}-${process.pid}-${++n}`);
  await api.accounts.createOrAdopt({
    id,
    name: `Credentials ${label}`,
    realm: `${label}-${n}-${process.pid}.credentials.api-e2e.test`,
  });
  const apiKey = await api.credentials.createApiKey(id);
  const token = (await api.credentials.issueToken(apiKey, 3600))!.token;
  return { id, apiKey, token };
}

const count = (accountId: string, token: string) =>
  http(api.url, 'GET', `/v2/accounts/${accountId}/registrations/count`, { token });

const login = (apiKey: string, client = '127.0.0.1') =>
  http(api.url, 'PUT', '/v2/api_auth', {
    body: { data: { api_key: apiKey } },
    headers: { 'x-forwarded-for': client },
  });

/** Polls until the token is refused (the cache keeps a grant at most 5 s). */
async function expectRefusedSoon(accountId: string, token: string) {
  const res = await eventually(
    () => count(accountId, token),
    (r) => r.status === 401,
    { timeoutMs: 30_000, what: 'the revoked token to be refused' },
  );
  expectKazooError(res, 401, 'invalid_credentials', { message: 'invalid credentials' });
}

beforeAll(async () => {
  pool = testPool();
  api = await startApi({
    API_AUTH_RATE_PER_CLIENT: String(PER_CLIENT),
    API_AUTH_RATE_PER_KEY: String(PER_KEY),
  });
});

afterAll(async () => {
  await api?.close();
  await pool?.end();
});

describe('cli api-keys:revoke', () => {
  it('--key: the key buys nothing more, its tokens are refused, other keys keep working', async () => {
    const acme = await freshAccount('revoke-key');
    const other = await api.credentials.createApiKey(acme.id);
    const otherToken = (await api.credentials.issueToken(other, 3600))!.token;
    expect((await count(acme.id, acme.token)).status).toBe(200);

    const r = await cli('api-keys:revoke', '--key', acme.apiKey);
    expectExit(r, 0);
    expect(lastJsonLine(r)).toEqual({ revoked_api_keys: 1, revoked_tokens: 1 });

    await expectRefusedSoon(acme.id, acme.token);
    expectKazooError(await login(acme.apiKey, '192.0.2.201'), 401, 'invalid_credentials', {
      message: 'invalid credentials',
    });
    // sipXcom's Basic auth with the key itself.
    const basic = `Basic ${Buffer.from(`admin:${acme.apiKey}`).toString('base64')}`;
    await eventually(
      () =>
        http(api.url, 'GET', '/sipxconfig/api/registrations', {
          headers: { authorization: basic },
        }),
      (res) => res.status === 401,
      { timeoutMs: 30_000, what: 'the revoked key to be refused as Basic password' },
    );
    expect((await count(acme.id, otherToken)).status).toBe(200);
  });

  it('--account: every key of the account and every token they bought', async () => {
    const acme = await freshAccount('revoke-account-keys');
    const second = await api.credentials.createApiKey(acme.id);
    const secondToken = (await api.credentials.issueToken(second, 3600))!.token;
    const r = await cli('api-keys:revoke', '--account', acme.id);
    expectExit(r, 0);
    expect(lastJsonLine(r)).toEqual({ revoked_api_keys: 2, revoked_tokens: 2 });
    await expectRefusedSoon(acme.id, acme.token);
    await expectRefusedSoon(acme.id, secondToken);
  });

  it('a token bought while its key was being revoked is refused too', async () => {
    const acme = await freshAccount('revoke-race');
    expectExit(await cli('api-keys:revoke', '--key', acme.apiKey), 0);
    // As if the token's INSERT had read the key just before the revocation committed.
    const late = randomBytes(32).toString('base64url');
    await pool.query(
      `INSERT INTO auth_tokens (token_hash, account_id, api_key_id, expires_at)
       SELECT $1, account_id, id, now() + interval '1 hour' FROM api_keys WHERE key_hash = $2`,
      [sha256(late), sha256(acme.apiKey)],
    );
    expect((await count(acme.id, late)).status).toBe(401);
  });
});

describe('cli tokens:revoke', () => {
  it('--token=VALUE revokes that token only, even one that begins with "-"', async () => {
    const acme = await freshAccount('revoke-token');
    // Tokens are base64url: find one that begins with '-' (1 in 64) to exercise the parsing.
    let dashed: string | undefined;
    for (let i = 0; i < 3000 && !dashed; i++) {
      const t = (await api.credentials.issueToken(acme.apiKey, 3600))!.token;
      if (t.startsWith('-')) dashed = t;
    }
    expect(dashed).toBeDefined();
    // Space-separated, a value beginning with '-' is refused with a hint, nothing revoked.
    const ambiguous = await cli('tokens:revoke', '--token', dashed!);
    expectExit(ambiguous, 2);
    expect(ambiguous.stderr).toContain('--token=');
    expect((await count(acme.id, dashed!)).status).toBe(200);

    const r = await cli('tokens:revoke', `--token=${dashed}`);
    expectExit(r, 0);
    expect(lastJsonLine(r)).toEqual({ revoked_api_keys: 0, revoked_tokens: 1 });
    await expectRefusedSoon(acme.id, dashed!);
    expect((await count(acme.id, acme.token)).status).toBe(200);
  });

  it('--account revokes every token of the account; its key still buys new ones', async () => {
    const acme = await freshAccount('revoke-account-tokens');
    const second = (await api.credentials.issueToken(acme.apiKey, 3600))!.token;
    const r = await cli('tokens:revoke', '--account', acme.id);
    expectExit(r, 0);
    expect(lastJsonLine(r)).toMatchObject({ revoked_api_keys: 0 });
    expect(lastJsonLine(r).revoked_tokens).toBeGreaterThanOrEqual(2);
    await expectRefusedSoon(acme.id, acme.token);
    await expectRefusedSoon(acme.id, second);
    const again = await login(acme.apiKey, '192.0.2.202');
    expect(again.status).toBe(201);
    expect((await count(acme.id, again.json.auth_token as string)).status).toBe(200);
  });

  it('says so when nothing matched, or the arguments are wrong', async () => {
    const unknownToken = await cli('tokens:revoke', '--token=not-a-token');
    expectExit(unknownToken, 1);
    expect(unknownToken.stderr).toContain('no such token');
    const unknownKey = await cli('api-keys:revoke', '--key', 'ab'.repeat(32));
    expectExit(unknownKey, 1);
    expect(unknownKey.stderr).toContain('no such API key');
    // A value beginning with "-P" once reached tsconfig-paths' own -P/--project parsing.
    const dashP = await cli('tokens:revoke', '--token', '-PPx1');
    expectExit(dashP, 2);
    expect(dashP.stderr).toContain('--token=');
    const both = await cli('api-keys:revoke', '--key', 'ab', '--account', 'cd');
    expectExit(both, 2);
    expect(both.stderr).toContain('either --key or --account');
  });
});

describe('PUT /v2/api_auth rate limits', () => {
  /** Logs in until a 429 or `max` attempts; returns the answers. */
  async function until429(attempt: (i: number) => ReturnType<typeof login>, max: number) {
    const answers = [];
    for (let i = 0; i < max; i++) {
      const res = await attempt(i);
      answers.push(res);
      if (res.status === 429) break;
    }
    return answers;
  }

  function expectTooMany(res: Awaited<ReturnType<typeof login>>) {
    expectKazooError(res, 429, 'too_many_requests', { message: 'too many requests' });
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  }

  it(`per client: after ${PER_CLIENT} attempts a minute, 429 with Retry-After; other clients unaffected`, async () => {
    const keys = await Promise.all(
      Array.from(
        { length: PER_CLIENT + 3 },
        async (_, i) => (await freshAccount(`rl-client-${i}`)).apiKey,
      ),
    );
    // A bucket refills one attempt every 60/PER_CLIENT s: a slow machine may see one more pass.
    const answers = await until429((i) => login(keys[i], '198.51.100.7'), PER_CLIENT + 3);
    expect(answers.slice(0, PER_CLIENT).map((a) => a.status)).toEqual(Array(PER_CLIENT).fill(201));
    expectTooMany(answers[answers.length - 1]);
    // A wrong key costs an attempt too, and is refused alike once the bucket is empty.
    expectTooMany(await login('wrong', '198.51.100.7'));
    expect((await login(keys[PER_CLIENT + 2], '198.51.100.8')).status).toBe(201);
  });

  it(`per key: after ${PER_KEY} attempts a minute from any clients, 429; other keys unaffected`, async () => {
    const acme = await freshAccount('rl-key');
    const other = await freshAccount('rl-key-other');
    const answers = await until429((i) => login(acme.apiKey, `203.0.113.${10 + i}`), PER_KEY + 3);
    expect(answers.slice(0, PER_KEY).map((a) => a.status)).toEqual(Array(PER_KEY).fill(201));
    expectTooMany(answers[answers.length - 1]);
    expect((await login(other.apiKey, '203.0.113.99')).status).toBe(201);
  });
});

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
