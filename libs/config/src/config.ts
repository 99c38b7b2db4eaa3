// One environment schema for both apps, validated once at start-up. An invalid value stops
// start-up with one message naming every bad variable.
import { availableParallelism } from 'node:os';
import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a ${protocols.join(' or ')}// URL`,
  );

export const configSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default(
    'postgres://postgres@127.0.0.1:5432/registrations',
  ),
  AMQP_URL: url(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672/'),
  PORT: int(1, 65535).default(8000),
  INGEST_PORT: int(1, 65535).default(8001),
  /** Where the API finds the ingest app's /readyz and /metrics (the console's health panel); empty: http://127.0.0.1:INGEST_PORT. */
  INGEST_URL: z
    .string()
    .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
    .default(''),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Kazoo's Kamailio declares `registrar` non-durable; match whoever declared it first. */
  KAZOO_EXCHANGE_DURABLE: bool.default(false),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .default('registrations'),
  // bench/ingest: 1000 rows per batch over 500 cost the app's two statements per batch half as
  // often, at the same rows per second for a single upsert; three batches in flight let the
  // next one be buffered (and read ahead) while one is written (docs/benchmarks.md).
  /** Unacked deliveries per queue. 0 (default): ingestPrefetch() derives it from the lanes. */
  INGEST_PREFETCH: int(0, 65535).default(0),
  INGEST_BATCH_SIZE: int(1, 5000).default(1000),
  INGEST_BATCH_LINGER_MS: int(0, 10000).default(10),
  SWEEP_INTERVAL_MS: int(100, 600000).default(2000),
  TOMBSTONE_RETENTION_HOURS: int(1, 24 * 365).default(24),
  HISTORY_RETENTION_DAYS: int(1, 3650).default(30),
  DB_POOL_SIZE: int(1, 100).default(8),
  /**
   * Writers per queue: the ingest deals each queue's events to this many lanes by a hash of
   * the AOR, each with its own batches and connection. 0 (default): ingestLanes() derives it
   * from DB_POOL_SIZE and the cores (docs/design.md, "A queue in N lanes").
   */
  INGEST_LANES: int(0, 32).default(0),
  /** The change feed (outbox → exchange registrations.changes and SSE); refreshes are optional. */
  CHANGE_FEED_ENABLED: bool.default(true),
  CHANGE_FEED_REFRESHES: bool.default(false),
  /** Also publish Kazoo notifications.sip.register / deregister on exchange `notifications`. */
  KAZOO_NOTIFICATIONS: bool.default(false),
  CHANGE_RETENTION_DAYS: int(1, 365).default(7),
  /** Run the outbox relay in this ingest instance (only one relays at a time anyway). */
  CHANGE_RELAY_ENABLED: bool.default(true),
  SSE_HEARTBEAT_MS: int(1000, 300000).default(15000),
  /** Memory for Kazoo list items cached by row version (API): 0 turns the cache off. */
  API_ITEM_CACHE_MB: int(0, 4096).default(64),
  /** Origins allowed to call the API from a browser: "*" (any) or a comma-separated list. */
  CORS_ORIGINS: z.string().min(1).default('*'),
  /** Lifetime of tokens from PUT /v2/api_auth. */
  AUTH_TOKEN_TTL_S: int(60, 30 * 24 * 3600).default(3600),
  /** Kazoo JWTs (docs/kazoo-compatibility.md): public keys as `kid=path.pem` or `<kid>.pem`, comma-separated. */
  KAZOO_JWT_PUBLIC_KEYS: z.string().default(''),
  /** …and/or fetched by kid from crossbar: e.g. http://crossbar:8000/v2/auth/keys/{kid}. */
  KAZOO_JWT_KEYS_URL: z
    .string()
    .default('')
    .refine(
      (v) => v === '' || (url(['http:', 'https:']).safeParse(v).success && v.includes('{kid}')),
      'must be an http(s):// URL containing {kid}',
    ),
  KAZOO_JWT_KEYS_AUTH_TOKEN: z.string().default(''),
  KAZOO_JWT_KEY_CACHE_S: int(1, 7 * 24 * 3600).default(3600),
  /** The `iss` a Kazoo token must carry (kz_auth:ensure_issuer sets "kazoo"); empty: any. */
  KAZOO_JWT_ISSUER: z.string().default('kazoo'),
  /** Answer Kazoo's reg_query on the bus as ecallmgr does (queue <QUEUE_PREFIX>.reg-query). */
  KAZOO_REG_QUERY: bool.default(false),
  /** Added to `expires` in Kazoo lists and reg_query answers (ecallmgr's expires_deviation_time: 180). */
  KAZOO_EXPIRES_DEVIATION_S: int(0, 3600).default(0),
  /** Kazoo 4.1+ lists contact_port / proxy_port as integers; `string` restores the old strings. */
  KAZOO_PORT_TYPE: z.enum(['integer', 'string']).default('integer'),
  /** PUT /v2/api_auth attempts a minute per client address and per API key (429 beyond). */
  API_AUTH_RATE_PER_CLIENT: int(1, 1_000_000).default(120),
  API_AUTH_RATE_PER_KEY: int(1, 1_000_000).default(30),
  /**
   * Reconciliation with the proxies (docs/reconciliation.md): reg_sync asks every Kamailio to
   * republish what it holds; bindings it no longer holds end (`reconciled`), missing ones are
   * added. On by default at ingest start: events lost while the ingest was away (queue purged
   * or deleted, broker failover) are repaired at once, for one republish per proxy.
   */
  RECONCILE_ON_START: bool.default(true),
  /** Also every this many seconds (0: never). Each run makes every Kamailio republish all it holds. */
  RECONCILE_INTERVAL_S: int(0, 7 * 24 * 3600).default(0),
  /**
   * Quiet time after the last answer before a proxy that sends no reg_sync_complete (a stock
   * Kazoo Kamailio) counts as done: a pause that long mid-answer would end bindings it holds.
   */
  RECONCILE_SETTLE_MS: int(50, 60_000).default(3000),
  /** How long to wait for the first answer, and for every proxy that holds live bindings. */
  RECONCILE_FIRST_ANSWER_MS: int(100, 600_000).default(5000),
  /** Collecting the answers never lasts longer than this. */
  RECONCILE_TIMEOUT_MS: int(1000, 600_000).default(60_000),
  /** FreeSWITCH command routing key per switch: "fs1=key1,fs2=key2"; others use the default. */
  FS_COMMAND_ROUTING_KEY: z.string().min(1).default('commandBindingKey'),
  FS_COMMAND_ROUTING_KEYS: z.string().default(''),
  /** sipXconfig location ids of the proxies, for GET/DELETE …/registrations/server/{id}: "1=px1.example.net,2=10.0.0.2". */
  SIPXCOM_LOCATIONS: z
    .string()
    .regex(/^(\s*\d+\s*=\s*[^,=\s]+\s*(,|$))*$/, 'expected id=host,id=host')
    .default(''),
});

export type AppConfig = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads the environment; throws ConfigError listing every bad variable at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const known = Object.keys(configSchema.shape);
  const input = Object.fromEntries(
    known.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]),
  );
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (i) => `${String(i.path[0])}=${JSON.stringify(input[String(i.path[0])])}: ${i.message}`,
      ),
    );
  }
  const c = parsed.data;
  // Two queues' lanes write at once, and the relay, the sweeper and flushes need connections.
  if (c.INGEST_LANES > c.DB_POOL_SIZE)
    throw new ConfigError([
      `INGEST_LANES=${JSON.stringify(input.INGEST_LANES)}: more lanes than DB_POOL_SIZE (${c.DB_POOL_SIZE}) connections`,
    ]);
  // Lanes are acked by a watermark (the first delivery not committed in any lane): every
  // unacked delivery after it holds a prefetch credit, so a prefetch smaller than a full batch
  // per lane cuts every lane's batches short (docs/design.md, "A queue in N lanes").
  const lanes = ingestLanes(c);
  const prefetch = ingestPrefetch(c, lanes);
  if (lanes > 1 && prefetch < lanes * c.INGEST_BATCH_SIZE)
    throw new ConfigError([
      `INGEST_PREFETCH=${c.INGEST_PREFETCH ? JSON.stringify(input.INGEST_PREFETCH) : `${prefetch} (derived)`}: ` +
        `less than ${lanes} lanes${c.INGEST_LANES ? '' : ' (INGEST_LANES derived from the pool and cores)'} × ` +
        `INGEST_BATCH_SIZE ${c.INGEST_BATCH_SIZE} = ${lanes * c.INGEST_BATCH_SIZE}: every lane must be able to hold a full batch; ` +
        `raise INGEST_PREFETCH (at most 65535), or lower INGEST_BATCH_SIZE or INGEST_LANES`,
    ]);
  return c;
}

/**
 * Unacked deliveries per queue: INGEST_PREFETCH, or when 0 three batches per lane (one written,
 * the next buffered and read ahead, one of slack for the lane furthest behind, which holds the
 * acks of all: docs/design.md), at most 65535 (RabbitMQ's limit); with one lane 3000, as before.
 */
export function ingestPrefetch(
  c: Pick<AppConfig, 'INGEST_PREFETCH' | 'INGEST_BATCH_SIZE'>,
  lanes: number,
): number {
  if (c.INGEST_PREFETCH) return c.INGEST_PREFETCH;
  return lanes === 1 ? 3000 : Math.min(65535, Math.max(3000, 3 * lanes * c.INGEST_BATCH_SIZE));
}

/**
 * Lanes per queue: INGEST_LANES, or when 0 min(4, DB_POOL_SIZE - 2, max(2, cores / 2)), at
 * least 1: two connections left for the relay, the sweeper and a flush; half the machine's
 * cores (Postgres and RabbitMQ share it), but 2 even on 2 cores: with acks by a watermark, 2
 * lanes measured faster than 1 there (storm ratio 0.91–0.94 against 0.72–0.81), while 4 lanes
 * with one ack per message were slower (docs/benchmarks.md, "Lanes" and "Two lanes on two
 * cores"). An explicit INGEST_PREFETCH too small for a full batch per derived lane lowers the
 * derived lanes to what it holds, so that a setup that started with one lane still starts.
 */
export function ingestLanes(
  c: Pick<AppConfig, 'INGEST_LANES' | 'DB_POOL_SIZE' | 'INGEST_PREFETCH' | 'INGEST_BATCH_SIZE'>,
  cores = availableParallelism(),
): number {
  if (c.INGEST_LANES) return c.INGEST_LANES;
  const held = c.INGEST_PREFETCH ? Math.floor(c.INGEST_PREFETCH / c.INGEST_BATCH_SIZE) : 4;
  return Math.max(1, Math.min(4, c.DB_POOL_SIZE - 2, Math.max(2, Math.floor(cores / 2)), held));
}

/** The URL without its password, for log lines. */
export function redactUrl(u: string): string {
  try {
    const parsed = new URL(u);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return u;
  }
}
