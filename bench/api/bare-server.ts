// The ceiling of the API benchmark: the two benchmarked Kazoo routes on plain Fastify + `pg`, no
// Nest, written to be as fast as we know how, run as its own process (as the product is).
//
// Same as the product:
// - the SQL text (taken from RegistrationQueries by product-sql.ts), the pool size
//   (DB_POOL_SIZE, the product's default unless set), the `pg` type parsing;
// - the token semantics: X-Auth-Token (or Bearer) → sha256 → auth_tokens row, unexpired; own
//   account and target account (with its ancestors) from `accounts`; the target must be the own
//   account or a descendant (or the caller a super-admin). Tokens and accounts are cached 5 s,
//   as AuthService does;
// - the body, byte for byte but for request_id and timestamp: Kazoo's envelope (auth_token,
//   data, page_size, next_start_key, node, request_id, revision (as the product computes it), status,
//   timestamp, version) with the items of the product's own toKazooItem, cached by row version
//   as the product's KazooListService does (same SQL, same cache library and size);
// - the headers (checked by bench-api): content-type, x-request-id echoed or generated (32 hex
//   digits), and the Vary / Access-Control-Expose-Headers the product's CORS layer adds;
// - Fastify options: trustProxy.
// Faster by design: named (server-side prepared) statements (BARE_PREPARED=0 turns them off),
// the body built as one string around the items' JSON text, the headers as constants, no
// per-request logger, no metrics, no CORS plugin, no Nest pipeline.
// Not implemented (not benchmarked): filter_<key>, CSV, the error bodies (a minimal envelope).
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import * as os from 'node:os';
import Fastify, { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Pool, QueryConfig } from 'pg';
import { LRUCache } from 'lru-cache';
import { loadConfig } from '@app/config/config';
import type { Binding } from '@app/registrations/binding';
import { toKazooItem } from '@app/registrations/kazoo-item';
import { API_VERSION } from '../../apps/api/src/kazoo/kazoo-envelope';
import { captureProductSql, ProductSql } from './product-sql';

const PORT = Number(process.env.BARE_PORT ?? 18101);
const HOST = process.env.BARE_HOST ?? '127.0.0.1';
const DATABASE_URL = process.env.DATABASE_URL!;
const POOL_SIZE = loadConfig(process.env).DB_POOL_SIZE; // the product's, default or set
const PREPARED = process.env.BARE_PREPARED !== '0';
const CACHE_MS = 5_000;
const MAX_PAGE_SIZE = 1000;

const NODE_JSON = JSON.stringify(Buffer.from(`registrations@${os.hostname()}`).toString('base64'));
const VERSION_JSON = JSON.stringify(API_VERSION);

const pool = new Pool({
  connectionString: DATABASE_URL,
  max: POOL_SIZE,
  application_name: process.env.BARE_APP ?? 'bench-api-bare',
});

function stmt(name: string, text: string, values: unknown[]): QueryConfig {
  return PREPARED ? { name, text, values } : { text, values };
}

// ---- auth, with AuthService's semantics and 5 s caches ----
interface Grant {
  accountId: string;
  expiresAt: number;
}
interface AccountHit {
  isSuperadmin: boolean;
  ancestors: string[];
}
const tokens = new Map<string, { v: Grant | null; until: number }>();
const accounts = new Map<string, { v: AccountHit | null; until: number }>();

async function grantOf(token: string): Promise<Grant | null> {
  const hit = tokens.get(token);
  if (hit && hit.until >= Date.now()) return hit.v;
  const { rows } = await pool.query(
    stmt(
      'bare_token',
      'SELECT account_id, expires_at FROM auth_tokens WHERE token_hash = $1 AND expires_at > now()',
      [createHash('sha256').update(token, 'utf8').digest()],
    ),
  );
  const v = rows[0]
    ? { accountId: rows[0].account_id as string, expiresAt: (rows[0].expires_at as Date).getTime() }
    : null;
  tokens.set(token, { v, until: Date.now() + CACHE_MS });
  return v;
}

async function accountOf(id: string): Promise<AccountHit | null> {
  const hit = accounts.get(id);
  if (hit && hit.until >= Date.now()) return hit.v;
  const { rows } = await pool.query(
    stmt('bare_account', 'SELECT is_superadmin FROM accounts WHERE id = $1', [id]),
  );
  let v: AccountHit | null = null;
  if (rows[0]) {
    const up = await pool.query(
      stmt(
        'bare_ancestors',
        `WITH RECURSIVE up(id, parent_id, depth) AS (
           SELECT id, parent_id, 0 FROM accounts WHERE id = $1
           UNION ALL
           SELECT a.id, a.parent_id, up.depth + 1 FROM accounts a JOIN up ON a.id = up.parent_id WHERE up.depth < 64
         ) SELECT id FROM up ORDER BY depth`,
        [id],
      ),
    );
    v = { isSuperadmin: rows[0].is_superadmin === true, ancestors: up.rows.map((r) => r.id) };
  }
  accounts.set(id, { v, until: Date.now() + CACHE_MS });
  return v;
}

/** The token if the caller may act on accountId; otherwise the error reply is sent. */
async function authorize(
  req: FastifyRequest,
  reply: FastifyReply,
  accountId: string,
): Promise<string | undefined> {
  let token = req.headers['x-auth-token'];
  if (typeof token !== 'string' || !token) {
    const auth = req.headers.authorization;
    token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
  }
  const grant = token ? await grantOf(token) : null;
  const own = grant && grant.expiresAt > Date.now() ? await accountOf(grant.accountId) : null;
  if (!token || !grant || !own) {
    fail(reply, req, 401, 'invalid_credentials');
    return undefined;
  }
  const target = /^[0-9a-f]{32}$/.test(accountId) ? await accountOf(accountId) : null;
  if (own.isSuperadmin ? !target : !target || !target.ancestors.includes(grant.accountId)) {
    fail(
      reply,
      req,
      own.isSuperadmin ? 404 : 403,
      own.isSuperadmin ? 'bad_identifier' : 'forbidden',
    );
    return undefined;
  }
  return token;
}

function fail(reply: FastifyReply, req: FastifyRequest, status: number, code: string): void {
  void reply
    .status(status)
    .header('content-type', 'application/json')
    .send(
      `{"data":{"message":"${code}"},"error":"${status}","message":"${code}","request_id":"${req.id}","status":"error"}`,
    );
}

// ---- the answer ----
/**
 * The product's headers on a request without Origin: its CORS layer (browser clients) adds
 * Vary and the exposed headers to every answer; the same bytes go out here.
 */
const ANSWER_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  vary: 'Origin',
  'access-control-expose-headers': 'X-Request-ID, X-Next-Start-Key',
};

function fingerprintOf(rows: Row[], n: number): string {
  let f = '';
  for (let i = 0; i < n; i++)
    f += `${i ? ',' : ''}${rows[i].id}:${rows[i].eventUs}:${rows[i].expires}`;
  return `${f}|${n}`;
}

/** revision: md5 of `fingerprint` when given (the product's list hashes ids and event times), else of the data. */
function envelope(
  token: string,
  dataJson: string,
  extraJson: string,
  requestId: string,
  fingerprint?: string,
): string {
  const revision = createHash('md5')
    .update(fingerprint ?? dataJson)
    .digest('hex');
  return (
    `{"auth_token":${JSON.stringify(token)},"data":${dataJson}${extraJson},"node":${NODE_JSON},` +
    `"request_id":"${requestId}","revision":"${revision}","status":"success",` +
    `"timestamp":"${new Date().toISOString()}","version":${VERSION_JSON}}`
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- pg rows, as the product's SQL returns them
type Row = Record<string, any>;

// ---- items by row version, as the product's KazooListService keeps them ----
const cacheMb = loadConfig(process.env).API_ITEM_CACHE_MB;
const itemCache =
  cacheMb > 0
    ? new LRUCache<string, string>({
        maxSize: cacheMb * 1024 * 1024,
        sizeCalculation: (v) => v.length + 64,
      })
    : undefined;
const versionKey = (r: Row) => `${r.id}:${r.rowVersion}:${r.eventUs}:${r.accountVersion ?? ''}`;

/** The page's rows and their items: cached by row version, the rest read by id and rendered. */
async function page(
  pageQuery: QueryConfig,
  rowsByIdSql: string,
): Promise<{ rows: Row[]; items: string[] }> {
  for (;;) {
    const { rows } = await pool.query(pageQuery);
    const items = new Array<string>(rows.length);
    const missing: number[] = [];
    for (let i = 0; i < rows.length; i++) {
      const hit = itemCache?.get(versionKey(rows[i]));
      if (hit === undefined) missing.push(i);
      else items[i] = hit;
    }
    if (missing.length === 0) return { rows, items };
    const fresh = await pool.query(
      stmt('bare_rows_by_id', rowsByIdSql, [missing.map((i) => rows[i].id)]),
    );
    const byId = new Map<number, Row>(fresh.rows.map((f: Row) => [f.id as number, f]));
    let changed = false;
    for (const i of missing) {
      const f = byId.get(rows[i].id);
      if (!f || versionKey(f) !== versionKey(rows[i])) {
        changed = true;
        continue;
      }
      items[i] = JSON.stringify(
        toKazooItem(f as Binding, { name: f.accountName, realm: f.accountRealm }),
      );
      itemCache?.set(versionKey(f), items[i]);
    }
    if (!changed) return { rows, items }; // (the bench's data does not change: no give-up path)
  }
}

function startKey(r: Row): string {
  return Buffer.from(JSON.stringify([r.usernameKey, r.realmKey, r.contactUri])).toString(
    'base64url',
  );
}

function decodeStartKey(v: string): [string, string, string] | undefined {
  try {
    const k: unknown = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
    if (Array.isArray(k) && k.length === 3 && k.every((x) => typeof x === 'string'))
      return k as [string, string, string];
  } catch {
    // falls through
  }
  return undefined;
}

/** The bare app, routes registered, not listening (also used in-process with inject()). */
export async function buildBareApp(): Promise<FastifyInstance> {
  const sql: ProductSql = await captureProductSql();
  const app = Fastify({
    logger: false,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID().replace(/-/g, ''),
    trustProxy: true,
  });

  app.get<{ Params: { accountId: string }; Querystring: Record<string, string> }>(
    '/v2/accounts/:accountId/registrations',
    async (req, reply) => {
      const { accountId } = req.params;
      const token = await authorize(req, reply, accountId);
      if (token === undefined) return reply;
      const q = req.query;
      let pageSize: number | undefined;
      if (q.page_size !== undefined) {
        pageSize = /^\d+$/.test(q.page_size) ? Number(q.page_size) : 0;
        if (pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
          fail(reply, req, 400, 'validation error');
          return reply;
        }
      }
      const after = q.start_key === undefined ? undefined : decodeStartKey(q.start_key);
      if (q.start_key !== undefined && !after) {
        fail(reply, req, 400, 'validation error');
        return reply;
      }
      const params: unknown[] = after ? [accountId, ...after] : [accountId];
      if (pageSize !== undefined) params.push(pageSize + 1);
      const [name, text] = after
        ? pageSize !== undefined
          ? ['bare_list_after_limit', sql.listAfterLimit]
          : ['bare_list_after', sql.listAfter]
        : pageSize !== undefined
          ? ['bare_list_limit', sql.listLimit]
          : ['bare_list_all', sql.listAll];
      const { rows, items } = await page(stmt(name, text, params), sql.rowsById);
      const more = pageSize !== undefined && rows.length > pageSize;
      const n = more ? pageSize! : rows.length;
      let data = '[';
      for (let i = 0; i < n; i++) data += i ? `,${items[i]}` : items[i];
      data += ']';
      let extra = `,"page_size":${n}`;
      if (more) extra += `,"next_start_key":"${startKey(rows[n - 1])}"`;
      if (after) extra += `,"start_key":${JSON.stringify(q.start_key)}`;
      return reply
        .headers(ANSWER_HEADERS)
        .header('x-request-id', req.id)
        .send(envelope(token, data, extra, req.id, fingerprintOf(rows, n)));
    },
  );

  app.get<{ Params: { accountId: string } }>(
    '/v2/accounts/:accountId/registrations/count',
    async (req, reply) => {
      const { accountId } = req.params;
      const token = await authorize(req, reply, accountId);
      if (token === undefined) return reply;
      const { rows } = await pool.query(stmt('bare_count', sql.count, [accountId]));
      return reply
        .headers(ANSWER_HEADERS)
        .header('x-request-id', req.id)
        .send(envelope(token, `{"count":${rows[0].n}}`, '', req.id));
    },
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  return app;
}

async function main(): Promise<void> {
  const app = await buildBareApp();
  await app.listen({ port: PORT, host: HOST });
  console.log(`bare: listening on ${HOST}:${PORT} (pool ${POOL_SIZE}, prepared ${PREPARED})`);
  const stop = () => {
    void app
      .close()
      .then(() => pool.end())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`bare: start-up failed: ${(e as Error)?.stack ?? String(e)}`);
    process.exit(1);
  });
}
