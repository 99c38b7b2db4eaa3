/**
 * Starts a real Kamailio (Debian 5.6 + kazoo module) as a child process for end-to-end tests.
 *
 * It renders kamailio.cfg.tmpl (ports, AMQP URL with vhost, working dir) so that parallel runs
 * never share a socket, pid file or flush queue, waits until Kamailio answers JSON-RPC and its
 * reg_flush consumer is attached to RabbitMQ, and exposes counts taken from Kamailio itself.
 *
 * Counts never go through kamcmd: its binrpc replies are capped at 64 KB, which a full usrloc
 * dump of a few hundred phones already exceeds. Totals come from usrloc statistics; per-realm
 * numbers from `ul.dump` over JSON-RPC/HTTP (POST /RPC on the SIP TCP port), which has no such cap.
 */
import { spawn } from 'node:child_process';
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as amqp from 'amqplib';
import * as pg from 'pg';
import { assertInstalled } from '../../scripts/test/requirements';
import { closeAtEnd } from '../support/cleanup';

export interface KamailioOptions {
  /** e.g. amqp://guest:guest@127.0.0.1:5672/kamailio-smoke (the path is the vhost). */
  amqpUrl: string;
  /** UDP and TCP SIP port on 127.0.0.1; JSON-RPC is served on the same TCP port. */
  sipPort: number;
  /** Where the rendered cfg, pid file, control socket and log go. Default: a new temp dir. */
  workDir?: string;
  /** kazoo node_hostname: messages carry Node "kamailio@<this>". Default "harness.kamailio". */
  nodeHostname?: string;
  /** App-Name of published messages. Default "kamailio-harness". */
  appName?: string;
  /**
   * A Postgres server URL (e.g. the tests' TEST_DATABASE_URL; its database name is ignored):
   * usrloc is written through to a database of this instance's own on it (dropped by stop()),
   * and Kazoo's reg_sync is answered (registrar-sync-role.cfg, adapted), as the reconciliation
   * needs. Default: usrloc in memory only, no reg_sync.
   */
  usrlocDb?: string;
  /** Publish Status "Expired" when usrloc expires a contact. Real Kazoo Kamailio does not. */
  publishExpired?: boolean;
  /** usrloc timer (s): how late after its expiry a contact is removed. Default 1. */
  timerInterval?: number;
  /** registrar min/max expires (max 0 = no limit). Defaults 1 and 0. */
  minExpires?: number;
  maxExpires?: number;
  /** SIP worker processes per transport. Default 4. */
  children?: number;
  /**
   * Declare exchange `registrar` durable. Default false, as Kazoo's own Kamailio config does.
   * RabbitMQ refuses a second declaration with other flags (406 PRECONDITION_FAILED) and the kazoo
   * module then never consumes reg_flush: this must match how the product declares `registrar`.
   */
  registrarDurable?: boolean;
  /** kazoo amqp_max_channels. Default 1: publish order == REGISTER order. */
  amqpChannels?: number;
  /** Kamailio debug level (2 info, 3 debug). Default 2. */
  logLevel?: number;
  /** Shared / private memory in MB. Defaults 512 / 64 (tm keeps each REGISTER transaction ~5 s; a 10k-phone ul.dump is ~10 MB). */
  shmMb?: number;
  pkgMb?: number;
  /** How long to wait for Kamailio and its AMQP consumer. Default 20 s. */
  startTimeoutMs?: number;
  /**
   * Own process group: a Ctrl-C in the terminal does not reach Kamailio, whoever started it
   * stops it (the demo first unregisters its phones through it). Default false (see below).
   */
  detached?: boolean;
}

/** One contact as Kamailio's usrloc RPC reports it. */
export interface UlContact {
  Address: string;
  Expires: number | string;
  'Call-ID': string;
  CSeq: number;
  'User-Agent': string;
  Received: string;
  Socket: string;
  Instance: string;
  Ruid: string;
  'Last-Modified': number;
  [key: string]: unknown;
}

export interface KamailioHandle {
  sipPort: number;
  workDir: string;
  configPath: string;
  logPath: string;
  pid: number;
  /** Queue Kamailio consumes reg_flush from (bound to registrar / registration.flush.*). */
  flushQueue: string;
  /** Queue it consumes reg_sync from (registration.sync), when started with usrlocDb. */
  syncQueue?: string;
  /** Node of the messages it publishes: "kamailio@<nodeHostname>". */
  node: string;
  /** Raw JSON-RPC call; rejects with the RPC error message. */
  rpc<T>(method: string, params?: Array<string | number>): Promise<T>;
  /** Contacts (bindings) in usrloc: all of them (statistics), or those of one realm (dump). */
  countContacts(realm?: string): Promise<number>;
  /** AORs (user@realm) in usrloc, optionally of one realm. */
  countAors(realm?: string): Promise<number>;
  /** Whether usrloc has at least one contact for user@realm. */
  hasAor(username: string, realm: string): Promise<boolean>;
  /** Contacts of one AOR (empty when none). */
  contactsOf(username: string, realm: string): Promise<UlContact[]>;
  /** Every contact, keyed by AOR (a full dump; fine for tens of thousands). */
  dump(): Promise<Map<string, UlContact[]>>;
  /** usrloc statistics, e.g. { 'usrloc.location_contacts': 10 }. */
  stats(group?: string): Promise<Record<string, number>>;
  /** Stops Kamailio (SIGTERM; SIGKILL after 5 s) and waits for it and its workers to exit. */
  stop(): Promise<void>;
}

// Compiled into dist/test/kamailio/ (the benchmark imports this file), the template stays in
// the source tree: next to this file, or test/kamailio/ of the repository (from dist/, or the
// current directory).
const TEMPLATE =
  [
    join(__dirname, 'kamailio.cfg.tmpl'),
    resolve(__dirname, '../../../test/kamailio/kamailio.cfg.tmpl'),
    resolve('test/kamailio/kamailio.cfg.tmpl'),
  ].find((f) => existsSync(f)) ?? join(__dirname, 'kamailio.cfg.tmpl');
const KAMAILIO_BIN = process.env.KAMAILIO_BIN ?? 'kamailio';

/** Replace every {{NAME}}; fail loudly on a placeholder without a value. */
export function renderConfig(vars: Record<string, string | number>): string {
  const out = readFileSync(TEMPLATE, 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (_m, name: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`kamailio.cfg.tmpl: no value for {{${name}}}`);
    return String(v);
  });
  return out;
}

export async function startKamailio(opts: KamailioOptions): Promise<KamailioHandle> {
  // Fail at once with what to install, not after the start-up time-out.
  assertInstalled(['kamailio', 'kamailio kazoo module (kazoo.so)']);
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), `kamailio-${opts.sipPort}-`));
  const nodeHostname = opts.nodeHostname ?? 'harness.kamailio';
  // One queue per instance: two Kamailios on one vhost must each receive every flush.
  const flushQueue = `registrar-flush-${nodeHostname}-${opts.sipPort}`;
  const syncQueue = opts.usrlocDb ? `registrar-sync-${nodeHostname}-${opts.sipPort}` : undefined;
  const usrlocDb = opts.usrlocDb
    ? await createUsrlocDb(opts.usrlocDb, `kamailio_usrloc_${process.pid}_${opts.sipPort}`)
    : undefined;
  const configPath = join(workDir, 'kamailio.cfg');
  const logPath = join(workDir, 'kamailio.log');
  // ';' and '"' would break the modparam strings of the rendered config.
  if (/["\s]/.test(opts.amqpUrl)) throw new Error(`bad AMQP URL: ${opts.amqpUrl}`);

  writeFileSync(
    configPath,
    renderConfig({
      DEFINES: [
        opts.publishExpired ? '#!define PUBLISH_EXPIRED' : '',
        opts.usrlocDb ? '#!define USRLOC_DB' : '',
      ].join('\n'),
      USRLOC_DB_URL: usrlocDb?.url ?? 'unused',
      SYNC_QUEUE: syncQueue ?? 'unused',
      SIP_PORT: opts.sipPort,
      WORK_DIR: workDir,
      AMQP_URL: opts.amqpUrl,
      NODE_HOSTNAME: nodeHostname,
      APP_NAME: opts.appName ?? 'kamailio-harness',
      FLUSH_QUEUE: flushQueue,
      CHILDREN: opts.children ?? 4,
      TIMER_INTERVAL: opts.timerInterval ?? 1,
      MIN_EXPIRES: opts.minExpires ?? 1,
      MAX_EXPIRES: opts.maxExpires ?? 0,
      LOG_LEVEL: opts.logLevel ?? 2,
      AMQP_CHANNELS: opts.amqpChannels ?? 1,
      REGISTRAR_DURABLE: opts.registrarDurable ? 1 : 0,
      // Kamailio probes SO_RCVBUF up to this; the kernel caps it at net.core.rmem_max.
      UDP_MAXBUFFER: 8 * 1024 * 1024,
    }),
  );

  const log = createWriteStream(logPath, { flags: 'a' });
  // -DD: stay in the foreground but still fork workers; -E: log to stderr (our log file).
  // Not detached: Kamailio stays in the test's process group, so Ctrl-C or a group kill of the
  // test runner also stops it. On SIGTERM the main process stops its own workers.
  const child = spawn(
    KAMAILIO_BIN,
    // prettier-ignore
    [
      '-DD', '-E',
      '-f', configPath,
      '-P', join(workDir, 'kamailio.pid'),
      '-Y', workDir,
      '-w', workDir,
      '-m', String(opts.shmMb ?? 512),
      '-M', String(opts.pkgMb ?? 64),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.detached ?? false },
  );
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    // Not startable (ENOENT, EACCES): there will be no 'exit'.
    child.once('error', (err) => {
      spawnError = err;
      resolve(null);
    });
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });
  // Never leave an orphan Kamailio holding the port if the test process exits without stop()
  // (only a synchronous kill is possible in an 'exit' handler; SIGTERM lets it stop its workers).
  const killOnExit = (): void => signal(child.pid, 'SIGTERM');
  process.once('exit', killOnExit);

  const rpcUrl = `http://127.0.0.1:${opts.sipPort}/RPC`;
  let rpcId = 0;
  const rpc = async <T>(method: string, params: Array<string | number> = []): Promise<T> => {
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method, params, id: ++rpcId }),
    });
    const body = (await res.json()) as { result?: T; error?: { code: number; message: string } };
    if (body.error) throw new RpcError(method, body.error.code, body.error.message);
    return body.result as T;
  };

  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    // Workers, by pid, taken before the main process goes (then they would be re-parented).
    const workers = childPids(child.pid);
    if (running) {
      signal(child.pid, 'SIGTERM');
      const timer = setTimeout(() => signal(child.pid, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    // A worker stuck in a long operation may outlive the main process: only those we saw.
    await new Promise((r) => setTimeout(r, 100));
    for (const pid of workers) signal(pid, 'SIGKILL');
    await new Promise<void>((resolve) => log.end(resolve));
    await usrlocDb?.drop().catch(() => undefined);
  };

  try {
    await waitUntil(opts.startTimeoutMs ?? 20000, async () => {
      if (!running)
        throw new Error(
          `kamailio exited during start-up${spawnError ? `: ${spawnError.message}` : ''}`,
        );
      await rpc<string>('core.version');
      return (
        (await consumerAttached(opts.amqpUrl, flushQueue)) &&
        (syncQueue === undefined || (await consumerAttached(opts.amqpUrl, syncQueue)))
      );
    });
  } catch (err) {
    await stop();
    const tail = readFileSync(logPath, 'utf8').split('\n').slice(-30).join('\n');
    throw new Error(`Kamailio did not start (${String(err)}); log ${logPath}:\n${tail}`);
  }

  const dump = async (): Promise<Map<string, UlContact[]>> => {
    const r = await rpc<UlDump>('ul.dump');
    const out = new Map<string, UlContact[]>();
    for (const d of r.Domains ?? []) {
      for (const a of d.Domain.AoRs ?? []) {
        const info = (a as UlDumpAor).Info;
        out.set(
          info.AoR,
          (info.Contacts ?? []).map((c) => c.Contact),
        );
      }
    }
    return out;
  };
  const aors = async (): Promise<string[]> => {
    const r = await rpc<UlDump>('ul.dump', ['brief']);
    return (r.Domains ?? []).flatMap((d) =>
      (d.Domain.AoRs ?? []).map((a) => (a as { AoR: string }).AoR),
    );
  };
  const inRealm = (aor: string, realm?: string): boolean =>
    realm === undefined || aor.slice(aor.lastIndexOf('@') + 1) === realm;
  const contactsOf = async (username: string, realm: string): Promise<UlContact[]> => {
    try {
      const r = await rpc<{ Contacts?: Array<{ Contact: UlContact }> }>('ul.lookup', [
        'location',
        `${username}@${realm}`,
      ]);
      return (r.Contacts ?? []).map((c) => c.Contact);
    } catch (err) {
      if (err instanceof RpcError && /not found/i.test(err.message)) return [];
      throw err;
    }
  };
  const stats = async (group = 'usrloc:'): Promise<Record<string, number>> => {
    const r = await rpc<Record<string, string | number>>('stats.fetch', [group]);
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
  };

  const handle: KamailioHandle = {
    sipPort: opts.sipPort,
    workDir,
    configPath,
    logPath,
    pid: child.pid ?? -1,
    flushQueue,
    syncQueue,
    node: `kamailio@${nodeHostname}`,
    rpc,
    stats,
    dump,
    contactsOf,
    countContacts: async (realm) => {
      if (realm === undefined) return (await stats())['usrloc.location_contacts'] ?? 0;
      let n = 0;
      for (const [aor, cs] of await dump()) if (inRealm(aor, realm)) n += cs.length;
      return n;
    },
    countAors: async (realm) => (await aors()).filter((a) => inRealm(a, realm)).length,
    hasAor: async (username, realm) => (await contactsOf(username, realm)).length > 0,
    stop,
  };
  // In a test file: stopped when the file ends if the file does not stop it.
  return closeAtEnd(`kamailio :${opts.sipPort}`, handle, 'stop');
}

/**
 * A database of its own for usrloc (Kamailio's Postgres schema, /usr/share/kamailio/postgres/
 * usrloc-create.sql, table version 9, with `expires` and `last_modified` as BIGINT Unix seconds
 * for usrloc's expires_type 1). Returns its URL and how to drop it.
 */
async function createUsrlocDb(
  serverUrl: string,
  name: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  assertInstalled(['kamailio postgres module (db_postgres.so)']);
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const run = async (url: string, sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await run(admin.toString(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await run(admin.toString(), `CREATE DATABASE "${name}"`);
  const db = new URL(serverUrl);
  db.pathname = `/${name}`;
  await run(
    db.toString(),
    `CREATE TABLE version (id SERIAL PRIMARY KEY NOT NULL, table_name VARCHAR(32) NOT NULL,
       table_version INTEGER DEFAULT 0 NOT NULL, CONSTRAINT version_table_name_idx UNIQUE (table_name));
     CREATE TABLE location (
       id SERIAL PRIMARY KEY NOT NULL, ruid VARCHAR(64) DEFAULT '' NOT NULL,
       username VARCHAR(64) DEFAULT '' NOT NULL, domain VARCHAR(64) DEFAULT NULL,
       contact VARCHAR(512) DEFAULT '' NOT NULL, received VARCHAR(128) DEFAULT NULL,
       path VARCHAR(512) DEFAULT NULL, expires BIGINT DEFAULT 0 NOT NULL, q REAL DEFAULT 1.0 NOT NULL,
       callid VARCHAR(255) DEFAULT 'Default-Call-ID' NOT NULL, cseq INTEGER DEFAULT 1 NOT NULL,
       last_modified BIGINT DEFAULT 0 NOT NULL, flags INTEGER DEFAULT 0 NOT NULL,
       cflags INTEGER DEFAULT 0 NOT NULL, user_agent VARCHAR(255) DEFAULT '' NOT NULL,
       socket VARCHAR(64) DEFAULT NULL, methods INTEGER DEFAULT NULL, instance VARCHAR(255) DEFAULT NULL,
       reg_id INTEGER DEFAULT 0 NOT NULL, server_id INTEGER DEFAULT 0 NOT NULL,
       connection_id INTEGER DEFAULT 0 NOT NULL, keepalive INTEGER DEFAULT 0 NOT NULL,
       partition INTEGER DEFAULT 0 NOT NULL, CONSTRAINT location_ruid_idx UNIQUE (ruid));
     CREATE INDEX location_account_contact_idx ON location (username, domain, contact);
     CREATE INDEX location_expires_idx ON location (expires);
     INSERT INTO version (table_name, table_version) VALUES ('location', '9');
     CREATE TABLE location_attrs (
       id SERIAL PRIMARY KEY NOT NULL, ruid VARCHAR(64) DEFAULT '' NOT NULL,
       username VARCHAR(64) DEFAULT '' NOT NULL, domain VARCHAR(64) DEFAULT NULL,
       aname VARCHAR(64) DEFAULT '' NOT NULL, atype INTEGER DEFAULT 0 NOT NULL,
       avalue VARCHAR(512) DEFAULT '' NOT NULL, last_modified BIGINT DEFAULT 0 NOT NULL);
     INSERT INTO version (table_name, table_version) VALUES ('location_attrs', '1');`,
  );
  return {
    url: db.toString(),
    drop: () => run(admin.toString(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface UlDumpAor {
  Info: { AoR: string; Contacts?: Array<{ Contact: UlContact }> };
}
interface UlDump {
  Domains?: Array<{ Domain: { Domain: string; AoRs?: Array<UlDumpAor | { AoR: string }> } }>;
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Direct children of pid (Kamailio's workers), from /proc. */
export function childPids(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after ')'
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // process ended meanwhile
    }
  }
  return out;
}

/** True once Kamailio's kazoo module consumes its flush queue (the queue is its own). */
async function consumerAttached(amqpUrl: string, queue: string): Promise<boolean> {
  const conn = await amqp.connect(amqpUrl);
  try {
    // checkQueue on a missing queue closes the channel with 404: ignore that channel error.
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    const q = await ch.checkQueue(queue).catch(() => undefined);
    return q !== undefined && q.consumerCount > 0;
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Polls fn every 200 ms until it returns true; rethrows its last error at the deadline. */
export async function waitUntil(
  timeoutMs: number,
  fn: () => Promise<boolean>,
  intervalMs = 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = new Error('condition never became true');
  for (;;) {
    try {
      if (await fn()) return;
      last = new Error('condition never became true');
    } catch (err) {
      last = err;
      if (err instanceof Error && /exited during start-up/.test(err.message)) throw err;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * A port free on 127.0.0.1 for both UDP and TCP (Kamailio listens on both with one number).
 * Racy by nature; start Kamailio right after.
 */
export async function findFreePort(from = 20000, to = 40000): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if ((await tcpFree(port)) && (await udpFree(port))) return port;
  }
  throw new Error('no free port found');
}

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * By hand: npx ts-node --transpile-only test/kamailio/kamailio-harness.ts \
 *   [--port 5060] [--amqp amqp://guest:guest@127.0.0.1:5672/kamailio-smoke] [--publish-expired]
 * Runs until Ctrl-C.
 */
async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const kam = await startKamailio({
    amqpUrl: arg('amqp') ?? 'amqp://guest:guest@127.0.0.1:5672/kamailio-smoke',
    sipPort: Number(arg('port') ?? 5060),
    publishExpired: argv.includes('--publish-expired'),
  });
  console.log(`kamailio ${kam.pid} listening on udp/tcp 127.0.0.1:${kam.sipPort}
  config   ${kam.configPath}
  log      ${kam.logPath}
  rpc      curl -s -d '{"jsonrpc":"2.0","method":"stats.fetch","params":["usrloc:"],"id":1}' http://127.0.0.1:${kam.sipPort}/RPC
  kamcmd   kamcmd -s unix:${kam.workDir}/kamailio_ctl ul.dump brief
  flush q  ${kam.flushQueue}
Ctrl-C to stop.`);
  const stop = (): void => void kam.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
