// The real API app (Fastify, port 0) beside the ingest harness, with a small HTTP client that
// keeps what a Kazoo client sees: status, headers, raw text and parsed JSON.
import 'reflect-metadata';
import { createHash, randomBytes } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { startApiApp } from './apps';
import { AccountStore, CredentialStore } from '@app/persistence';
import { testConfig } from './test-env';

export interface ApiHarness {
  app: NestFastifyApplication;
  url: string;
  accounts: AccountStore;
  credentials: CredentialStore;
  close(): Promise<void>;
}

export async function startApi(
  overrides: Partial<Record<string, string>> = {},
  opts: { consoleDir?: string } = {},
): Promise<ApiHarness> {
  const { app, url } = await startApiApp(testConfig(overrides), 0, opts);
  return {
    app,
    url: url.replace('[::1]', '127.0.0.1'),
    accounts: app.get(AccountStore),
    credentials: app.get(CredentialStore),
    close: () => app.close(),
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface RequestOptions {
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** A raw body sent as is (with content-type application/json unless headers say otherwise). */
  rawBody?: string;
}

export async function http(
  baseUrl: string,
  method: string,
  path: string,
  opts: RequestOptions = {},
): Promise<HttpResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers['x-auth-token'] = opts.token;
  let body: string | undefined;
  if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (opts.rawBody !== undefined) body = opts.rawBody;
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A Kazoo-style account id (32 lower-case hex digits) derived from a readable label. */
export function accountIdFor(label: string): string {
  return createHash('md5').update(`api-e2e:${label}`).digest('hex');
}

/** Creates the account (or adopts it) with an API key, and buys a token through PUT /v2/api_auth. */
export async function accountWithToken(
  api: ApiHarness,
  a: { id: string; name: string; realm: string; parentId?: string; isSuperadmin?: boolean },
): Promise<{ id: string; apiKey: string; token: string }> {
  await api.accounts.createOrAdopt(a);
  const apiKey = await api.credentials.createApiKey(a.id);
  const res = await http(api.url, 'PUT', '/v2/api_auth', { body: { data: { api_key: apiKey } } });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`api_auth for ${a.name} answered ${res.status}: ${res.text}`);
  return { id: a.id, apiKey, token: res.json.auth_token as string };
}

/** A token of the account whose row already expired (as if issued more than its TTL ago). */
export async function expiredToken(pool: Pool, accountId: string): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await pool.query(
    `INSERT INTO auth_tokens (token_hash, account_id, created_at, expires_at)
     VALUES ($1, $2, now() - interval '2 hours', now() - interval '1 hour')`,
    [createHash('sha256').update(token, 'utf8').digest(), accountId],
  );
  return token;
}

export const GREGORIAN_OFFSET_S = 62167219200;

const ENVELOPE_KEYS = [
  'auth_token',
  'request_id',
  'node',
  'version',
  'timestamp',
  'status',
  'data',
];

/**
 * Every response of the Kazoo paths is in Kazoo's envelope; errors add `error` (the HTTP code
 * as a string) and `message`. Returns the body for further checks.
 */
export function expectEnvelope(
  res: HttpResult,
  expected: { status: number; token?: string; requestId?: string },
) {
  const where = `${res.status} ${res.text.slice(0, 400)}`;
  expect({ status: res.status, where }).toEqual({ status: expected.status, where });
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const b = res.json;
  expect(b).toEqual(expect.any(Object));
  for (const k of ENVELOPE_KEYS) expect(Object.keys(b)).toContain(k);
  expect(b.auth_token).toEqual(expected.token ?? expect.any(String));
  expect(b.request_id).toEqual(expect.any(String));
  expect(b.request_id.length).toBeGreaterThan(0);
  expect(res.headers.get('x-request-id')).toBe(b.request_id);
  if (expected.requestId !== undefined) expect(b.request_id).toBe(expected.requestId);
  expect(b.node).toEqual(expect.any(String));
  expect(b.node.length).toBeGreaterThan(0);
  expect(b.version).toEqual(expect.any(String));
  expect(b.version.length).toBeGreaterThan(0);
  // ISO-8601 UTC, and now.
  expect(b.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  expect(Math.abs(Date.parse(b.timestamp) - Date.now())).toBeLessThan(60_000);
  if (expected.status < 400) {
    expect(b.status).toBe('success');
    expect(b).not.toHaveProperty('error');
  } else {
    expect(b.status).toBe('error');
    expect(b.error).toBe(String(expected.status));
    expect(b.message).toEqual(expect.any(String));
  }
  expect(res.text).not.toMatch(/"undefined"/);
  return b;
}

/** An error in Kazoo's envelope with the message and data of api-dialects.md A. */
export function expectKazooError(
  res: HttpResult,
  status: number,
  message: string,
  data: unknown,
  opts: { token?: string; requestId?: string } = {},
) {
  const b = expectEnvelope(res, { status, ...opts });
  expect(b.message).toBe(message);
  expect(b.data).toEqual(data);
  return b;
}

/** A 400 in Kazoo's validation format: `{"<field>": {"<rule>": {"message": "…"}}}`. */
export function expectValidationError(res: HttpResult, field: string, token?: string) {
  const b = expectEnvelope(res, { status: 400, token });
  expect(b.message).toBe('validation error');
  expect(Object.keys(b.data)).toEqual([field]);
  const rules = b.data[field];
  expect(rules).toEqual(expect.any(Object));
  const ruleNames = Object.keys(rules);
  expect(ruleNames.length).toBeGreaterThanOrEqual(1);
  for (const r of ruleNames) {
    expect(Object.keys(rules[r])).toEqual(['message']);
    expect(rules[r].message).toEqual(expect.any(String));
    expect(rules[r].message.length).toBeGreaterThan(0);
  }
  return b;
}
