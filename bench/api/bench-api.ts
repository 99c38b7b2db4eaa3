// npm run bench:api [-- --rounds N --duration S --warmup S --connections C]: issue 3, "Must show 3".
// One account holds 10,000 of 1,000,000 live bindings. `GET …/registrations?page_size=50` and
// `GET …/registrations/count` are loaded with wrk (or autocannon) at 50 connections against the product
// API app and against the ceiling (bare-server.ts: plain Fastify + pg, the same SQL and body),
// alternating. Prints req/s, p50 and p99 per run and their medians, the EXPLAIN (ANALYZE,
// BUFFERS) of both statements, writes docs/benchmarks.md "## API", and ends with the lines
// `list ratio: <product/bare req/s>` and `count ratio: <…>`.
import 'reflect-metadata';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { loadConfig } from '@app/config/config';
import { CredentialStore } from '@app/persistence/credential.store';
import { cpuSeconds, cpuSnapshot, machineBusySeconds } from '../support/proc-cpu';
import {
  BENCH_DATABASE_URL,
  BIG_ACCOUNT_BINDINGS,
  bigAccountId,
  ensureDataset,
  prepareDatabase,
} from './dataset';
import { captureProductSql } from './product-sql';
import { writeApiSection } from './report';
import { BARE_APP, Server, startBare, startProduct, waitReady } from './servers';
import { median } from '../support/stats';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const ROUNDS = arg('rounds', 3);
const DURATION_S = arg('duration', 10);
const WARMUP_S = arg('warmup', 2);
const CONNECTIONS = arg('connections', 50);
// --only list|count: one route alone, for investigating (its ratio only; docs are not written).
const onlyAt = process.argv.indexOf('--only');
const ONLY = onlyAt > 0 ? (process.argv[onlyAt + 1] as Endpoint) : undefined;
const ENDPOINTS: Endpoint[] = ONLY ? [ONLY] : ['list', 'count'];
const PRODUCT_PORT = Number(process.env.BENCH_API_PORT ?? 18100);
const BARE_PORT = Number(process.env.BENCH_BARE_PORT ?? 18101);
const PAGE_SIZE = 50;
const DRIVER_APP = 'bench-api-driver';
const TARGET_RATIO = 0.8;
const TARGET_P99_MS = 50;
const REPO_ROOT = path.resolve(__dirname, '../../..'); // dist/bench/api → repo

type Endpoint = 'list' | 'count';
type Target = 'product' | 'bare';
interface Run {
  round: number;
  endpoint: Endpoint;
  target: Target;
  rps: number;
  p50: number;
  p99: number;
  serverCpuUsPerReq: number;
  pgCpuUsPerReq: number;
  serverCpuPct: number;
  pgCpuPct: number;
  otherCpuPct: number;
  bytes: number;
}

const f0 = (n: number) => Math.round(n).toLocaleString('en-US');
const f1 = (n: number) => n.toFixed(1);
const f2 = (n: number) => n.toFixed(2);

/** What one load run saw. */
interface Load {
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  bytes: number;
  /** Set when some requests failed: what failed. */
  failed?: string;
  /** CPU seconds the load generator spent. */
  cpuS: number;
}

/**
 * The load generator: wrk (C, one thread) when it is installed, else autocannon in this
 * process (BENCH_LOAD=autocannon forces it). Both servers always get the same one; wrk leaves
 * more of the two cores to the servers and Postgres.
 */
const LOADER: 'wrk' | 'autocannon' =
  process.env.BENCH_LOAD === 'autocannon' || spawnSync('wrk', ['--version']).error
    ? 'autocannon'
    : 'wrk';

async function load(url: string, token: string, seconds: number): Promise<Load> {
  return LOADER === 'wrk' ? wrk(url, token, seconds) : cannon(url, token, seconds);
}

function cannon(url: string, token: string, seconds: number): Promise<Load> {
  const self0 = process.cpuUsage();
  return new Promise((resolve, reject) => {
    autocannon(
      { url, connections: CONNECTIONS, duration: seconds, headers: { 'x-auth-token': token } },
      (err, r) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const cpu = process.cpuUsage(self0);
        resolve({
          requests: r.requests.total,
          seconds: r.duration,
          p50: r.latency.p50,
          p99: r.latency.p99,
          bytes: r.throughput.total / r.requests.total,
          failed:
            r.errors || r.non2xx || r.timeouts
              ? `${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`
              : undefined,
          cpuS: (cpu.user + cpu.system) / 1e6,
        });
      },
    );
  });
}

/** CPU seconds of this process's children that have been waited for (/proc/self/stat). */
function childrenCpuS(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (clock ticks of 1/100 s)
}

async function wrk(url: string, token: string, seconds: number): Promise<Load> {
  const cpu0 = childrenCpuS();
  const child = spawn(
    'wrk',
    ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-H', `x-auth-token: ${token}`, url],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`wrk exited with ${code}: ${out}`);
  const ms = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
    if (!m) throw new Error(`no ${p}% latency in wrk's output: ${out}`);
    return ms(m[1], m[2]);
  };
  const total = /(\d+) requests in ([\d.]+)(ms|s|m), ([\d.]+)(B|KB|MB|GB) read/.exec(out);
  if (!total) throw new Error(`no totals in wrk's output: ${out}`);
  const requests = Number(total[1]);
  const unit = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[total[5]] ?? NaN;
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1];
  const socket = /Socket errors: (.*)/.exec(out)?.[1];
  return {
    requests,
    seconds: Number(total[2]) * ({ ms: 0.001, s: 1, m: 60 }[total[3]] ?? NaN),
    p50: pct('50'),
    p99: pct('99'),
    bytes: (Number(total[4]) * unit) / requests,
    failed:
      non2xx || socket
        ? `${non2xx ?? 0} non-2xx answers; socket errors: ${socket ?? 'none'}`
        : undefined,
    cpuS: childrenCpuS() - cpu0,
  };
}

async function measure(
  pool: Pool,
  server: Server,
  pathname: string,
  token: string,
  round: number,
  endpoint: Endpoint,
  target: Target,
): Promise<Run> {
  await load(server.url + pathname, token, WARMUP_S);
  const pid = server.proc.pid!;
  // The Postgres backends serving this server (its pool is open after the warm-up).
  const backends = new Set(
    (
      await pool.query(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database()
            AND backend_type = 'client backend' AND application_name <> ALL($1::text[])
            AND (application_name = $2) = $3`,
        [[DRIVER_APP], BARE_APP, target === 'bare'],
      )
    ).rows.map((r) => r.pid as number),
  );
  const before = cpuSnapshot();
  const busyBefore = machineBusySeconds();
  const t0 = performance.now();
  const r = await load(server.url + pathname, token, DURATION_S);
  const wall = (performance.now() - t0) / 1000;
  const after = cpuSnapshot();
  const busy = machineBusySeconds() - busyBefore;
  if (r.failed) throw new Error(`${target} ${endpoint}: ${r.failed}`);
  const requests = r.requests;
  const serverCpu = cpuSeconds(before, after, (p) => p === pid);
  const pgCpu = cpuSeconds(before, after, (p) => backends.has(p));
  const selfCpu = cpuSeconds(before, after, (p) => p === process.pid);
  const loadCpu = LOADER === 'wrk' ? r.cpuS : selfCpu;
  const run: Run = {
    round,
    endpoint,
    target,
    rps: requests / r.seconds,
    p50: r.p50,
    p99: r.p99,
    serverCpuUsPerReq: (serverCpu / requests) * 1e6,
    pgCpuUsPerReq: (pgCpu / requests) * 1e6,
    serverCpuPct: (serverCpu / wall) * 100,
    pgCpuPct: (pgCpu / wall) * 100,
    otherCpuPct:
      (Math.max(0, busy - serverCpu - pgCpu - selfCpu - (LOADER === 'wrk' ? loadCpu : 0)) / wall) *
      100,
    bytes: r.bytes,
  };
  console.log(
    `round ${round} ${endpoint.padEnd(5)} ${target.padEnd(7)} ${f0(run.rps).padStart(6)} req/s  ` +
      `p50 ${f1(run.p50)} ms  p99 ${f1(run.p99)} ms  | CPU: server ${f0(run.serverCpuPct)}% ` +
      `(${f0(run.serverCpuUsPerReq)} µs/req), postgres ${f0(run.pgCpuPct)}% ` +
      `(${f0(run.pgCpuUsPerReq)} µs/req), ${LOADER} ${f0((loadCpu / wall) * 100)}%, ` +
      `other ${f0(run.otherCpuPct)}%`,
  );
  return run;
}

async function getJson(
  url: string,
  token: string,
): Promise<{ status: number; text: string; headers: string }> {
  const res = await fetch(url, { headers: { 'x-auth-token': token } });
  // Header names and values, but for the per-request ones.
  const headers = [...res.headers]
    .filter(([k]) => !['date', 'x-request-id', 'content-length'].includes(k))
    .map(([k, v]) => `${k}: ${v}`)
    .sort()
    .join('; ');
  return { status: res.status, text: await res.text(), headers };
}

/** The body without the two values that differ per request. */
function comparable(text: string): string {
  const o = JSON.parse(text);
  delete o.request_id;
  delete o.timestamp;
  return JSON.stringify(o);
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at ${i}: product …${a.slice(Math.max(0, i - 60), i + 60)}… / bare …${b.slice(Math.max(0, i - 60), i + 60)}…`;
}

async function explain(pool: Pool, sql: string, params: unknown[]): Promise<string> {
  const run = async () =>
    (await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params)).rows
      .map((r) => r['QUERY PLAN'] as string)
      .join('\n');
  await run(); // the first one may read from disk; show a warm one, as under load
  return run();
}

async function main(): Promise<void> {
  const started = new Date();
  const load = os.loadavg();
  console.log(
    `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${f0(os.totalmem() / 2 ** 30)} GiB, ` +
      `node ${process.version}, load average ${load.map(f2).join(' ')}`,
  );
  if (load[0] > 0.5 * os.cpus().length)
    console.log('warning: the machine is already busy; figures will be noisy (see "other" CPU)');

  await prepareDatabase();
  const pool = new Pool({
    connectionString: BENCH_DATABASE_URL,
    max: 2,
    application_name: DRIVER_APP,
  });
  const { rows: v } = await pool.query(`SELECT current_setting('server_version') AS v,
    current_setting('shared_buffers') AS sb`);
  const pgVersion = `Postgres ${v[0].v} (shared_buffers ${v[0].sb})`;
  const dataset = await ensureDataset(pool);
  const accountId = await bigAccountId(pool);

  // An API key for the big account, made as `api-keys:create` makes it.
  const ds = {
    query: async (sql: string, params?: unknown[]) => (await pool.query(sql, params)).rows,
  } as unknown as DataSource;
  const apiKey = await new CredentialStore(ds).createApiKey(accountId);

  const sql = await captureProductSql();
  const listPath = `/v2/accounts/${accountId}/registrations?page_size=${PAGE_SIZE}`;
  const countPath = `/v2/accounts/${accountId}/registrations/count`;

  const product = startProduct(PRODUCT_PORT, BENCH_DATABASE_URL);
  const bare = startBare(BARE_PORT, BENCH_DATABASE_URL);
  const servers = { product, bare };
  const runs: Run[] = [];
  let plans = { list: '', count: '' };
  let listIndexScan = false;
  let countPlanLine = '';
  try {
    await Promise.all([waitReady(product, '/healthz'), waitReady(bare, '/healthz')]);

    // The token, from the product's own PUT /v2/api_auth.
    const res = await fetch(`${product.url}/v2/api_auth`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { api_key: apiKey } }),
    });
    const auth = (await res.json()) as { auth_token?: string };
    if (res.status !== 201 || !auth.auth_token)
      throw new Error(`PUT /v2/api_auth answered ${res.status}: ${JSON.stringify(auth)}`);
    const token = auth.auth_token;

    // Same answers from both, and the expected ones.
    for (const [what, p] of [
      ['list', listPath],
      ['count', countPath],
    ] as const) {
      const a = await getJson(product.url + p, token);
      const b = await getJson(bare.url + p, token);
      if (a.status !== 200 || b.status !== 200)
        throw new Error(`${what}: product ${a.status}, bare ${b.status}: ${a.text.slice(0, 300)}`);
      const ca = comparable(a.text);
      const cb = comparable(b.text);
      if (ca !== cb) throw new Error(`${what}: the bodies differ ${firstDifference(ca, cb)}`);
      if (a.headers !== b.headers)
        throw new Error(`${what}: the headers differ: product ${a.headers}; bare ${b.headers}`);
      const body = JSON.parse(a.text);
      if (what === 'list' && (body.data.length !== PAGE_SIZE || !body.next_start_key))
        throw new Error(`list: expected ${PAGE_SIZE} items and a next_start_key`);
      if (what === 'count' && body.data.count !== BIG_ACCOUNT_BINDINGS)
        throw new Error(`count: expected ${BIG_ACCOUNT_BINDINGS}, got ${body.data.count}`);
      console.log(
        `${what}: product and bare bodies identical but for request_id and timestamp (${f0(a.text.length)} bytes), same headers`,
      );
    }

    // The plans of the very statements both servers run.
    plans = {
      list: await explain(pool, sql.listLimit, [accountId, PAGE_SIZE + 1]),
      count: await explain(pool, sql.count, [accountId]),
    };
    console.log(
      `\nEXPLAIN (ANALYZE, BUFFERS) list:\n${sql.listLimit.replace(/\s+/g, ' ').trim()}\n${plans.list}`,
    );
    console.log(`\nEXPLAIN (ANALYZE, BUFFERS) count:\n${sql.count}\n${plans.count}\n`);
    listIndexScan =
      /Index (Only )?Scan using \S+ on registrations/.test(plans.list) &&
      !/Seq Scan on registrations|Bitmap Heap Scan on registrations/.test(plans.list) &&
      !/^\s*(->\s*)?(Incremental )?Sort\b/m.test(plans.list);
    console.log(
      listIndexScan
        ? `plan check: list is an index scan (${/Index (Only )?Scan using \S+/.exec(plans.list)![0]}), no sort`
        : 'PLAN CHECK FAILED: the list query is NOT an ordered index scan (see the plan above)',
    );
    const countScan =
      /(Index Only Scan|Index Scan|Bitmap Heap Scan|Seq Scan)( using \S+)? on registrations/.exec(
        plans.count,
      );
    const heapFetches = /Heap Fetches: (\d+)/.exec(plans.count)?.[1];
    const heapBlocks = /Heap Blocks: exact=(\d+)/.exec(plans.count)?.[1];
    const countMs = /Execution Time: ([\d.]+) ms/.exec(plans.count)?.[1];
    countPlanLine =
      `${countScan?.[0] ?? 'unknown scan'}` +
      (heapFetches !== undefined ? `, heap fetches ${heapFetches}` : '') +
      (heapBlocks !== undefined ? `, ${heapBlocks} heap pages visited` : '') +
      (countMs !== undefined ? `, ${countMs} ms` : '');
    const countIndexOnly = /Index Only Scan/.test(plans.count) && Number(heapFetches ?? 0) === 0;
    console.log(
      countIndexOnly
        ? `plan check: count is an index-only scan (${countPlanLine})\n`
        : `plan check: count is NOT an index-only scan: ${countPlanLine} (every live binding of the account is read from the table)\n`,
    );

    console.log(
      `load: ${LOADER}, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per run, ${ROUNDS} rounds, product and bare alternating`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Target[] = round % 2 ? ['product', 'bare'] : ['bare', 'product'];
      for (const endpoint of ENDPOINTS) {
        for (const target of order) {
          runs.push(
            await measure(
              pool,
              servers[target],
              endpoint === 'list' ? listPath : countPath,
              token,
              round,
              endpoint,
              target,
            ),
          );
        }
      }
    }
  } finally {
    await Promise.all([product.stop(), bare.stop()]);
    await pool.end();
  }

  // Medians.
  const med = (endpoint: Endpoint, target: Target, k: keyof Run) =>
    median(
      runs.filter((r) => r.endpoint === endpoint && r.target === target).map((r) => r[k] as number),
    );
  const rows: string[] = [];
  const table = [
    '| route | server | req/s | p50 ms | p99 ms | server CPU µs/req | Postgres CPU µs/req | bytes/response (with headers) |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  console.log('\nmedians:');
  for (const endpoint of ENDPOINTS) {
    for (const target of ['product', 'bare'] as Target[]) {
      const line = [
        endpoint === 'list'
          ? `GET …/registrations?page_size=${PAGE_SIZE}`
          : 'GET …/registrations/count',
        target === 'product' ? 'product (Nest)' : 'bare Fastify + pg',
        f0(med(endpoint, target, 'rps')),
        f1(med(endpoint, target, 'p50')),
        f1(med(endpoint, target, 'p99')),
        f0(med(endpoint, target, 'serverCpuUsPerReq')),
        f0(med(endpoint, target, 'pgCpuUsPerReq')),
        f0(med(endpoint, target, 'bytes')),
      ];
      table.push(`| ${line.join(' | ')} |`);
      rows.push(line.join(', '));
      console.log(
        `  ${endpoint.padEnd(5)} ${target.padEnd(7)} ${line[2].padStart(6)} req/s  p50 ${line[3]} ms  p99 ${line[4]} ms  server ${line[5]} µs/req  postgres ${line[6]} µs/req`,
      );
    }
  }
  const listRatio = med('list', 'product', 'rps') / med('list', 'bare', 'rps');
  const countRatio = med('count', 'product', 'rps') / med('count', 'bare', 'rps');
  const verdict = (endpoint: Endpoint, ratio: number) => {
    const p99 = med(endpoint, 'product', 'p99');
    const ok = ratio >= TARGET_RATIO && p99 < TARGET_P99_MS;
    return `${endpoint}: ratio ${f2(ratio)} (target ≥ ${TARGET_RATIO}) ${ratio >= TARGET_RATIO ? 'met' : 'MISSED'}, product p99 ${f1(p99)} ms (target < ${TARGET_P99_MS}) ${p99 < TARGET_P99_MS ? 'met' : 'MISSED'} → ${ok ? 'PASS' : 'FAIL'}`;
  };
  const verdicts = ENDPOINTS.map((e) => verdict(e, e === 'list' ? listRatio : countRatio));
  console.log(`\ntargets:\n  ${verdicts.join('\n  ')}`);
  console.log(`  list plan: ${listIndexScan ? 'index scan' : 'NOT an index scan'}`);

  const perRun = runs.map(
    (r) =>
      `| ${r.round} | ${r.endpoint} | ${r.target} | ${f0(r.rps)} | ${f1(r.p50)} | ${f1(r.p99)} | ${f0(r.serverCpuPct)} % | ${f0(r.pgCpuPct)} % | ${f0(r.otherCpuPct)} % |`,
  );
  const doc = `
\`npm run bench:api\` (bench/api/bench-api.ts). Last run: ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC on
${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${f0(os.totalmem() / 2 ** 30)} GiB, node ${process.version},
${pgVersion}; load average before the run ${load.map(f2).join(' ')}. Load generator, servers
and Postgres share the machine.

Data: database \`registrations_bench_api\` (BENCH_DATABASE_URL), 1,000,000 live bindings over
1,000 accounts; the measured account holds exactly 10,000 of them, spread over the whole table
(every 100th row), loaded with \`INSERT … SELECT FROM generate_series\`, then VACUUM ANALYZE
${dataset.loaded ? `(loaded by this run in ${f0(dataset.seconds)} s)` : '(kept from a previous run)'}.
Load: ${LOADER}, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up then ${DURATION_S} s per run,
${ROUNDS} rounds alternating product and bare; medians below. Product: \`node
dist/apps/api/src/main.js\` (LOG_LEVEL=warn, DB_POOL_SIZE ${loadConfig(process.env).DB_POOL_SIZE}, as the bare server). Bare
(bench/api/bare-server.ts): plain Fastify + pg in its own process, the product's SQL text (taken
from RegistrationQueries), the same pool size, the same token/account checks with the same 5 s
caches, and a body identical to the product's but for request_id and timestamp (checked at the
start of each run); it uses named prepared statements and serialises the data once.

${table.join('\n')}

- list ratio **${f2(listRatio)}**, count ratio **${f2(countRatio)}** (product req/s ÷ bare req/s).
- ${verdicts.join('\n- ')}
- list plan: ${listIndexScan ? 'ordered index scan, no sort' : '**not an index scan**'}; count plan: ${countPlanLine}.
- With ${CONNECTIONS} connections always busy, mean latency = ${CONNECTIONS} ÷ throughput: a p99 under
  ${TARGET_P99_MS} ms needs well over ${f0((CONNECTIONS * 1000) / TARGET_P99_MS)} req/s from the whole machine (load generator,
  server and Postgres on the same cores).
- Where the time goes (medians per request): list — product ${f0(med('list', 'product', 'serverCpuUsPerReq'))} µs
  node CPU + ${f0(med('list', 'product', 'pgCpuUsPerReq'))} µs Postgres CPU, bare ${f0(med('list', 'bare', 'serverCpuUsPerReq'))} µs + ${f0(med('list', 'bare', 'pgCpuUsPerReq'))} µs;
  count — product ${f0(med('count', 'product', 'serverCpuUsPerReq'))} µs + ${f0(med('count', 'product', 'pgCpuUsPerReq'))} µs, bare ${f0(med('count', 'bare', 'serverCpuUsPerReq'))} µs + ${f0(med('count', 'bare', 'pgCpuUsPerReq'))} µs.

<details><summary>Per run (CPU as % of one core; "other" = the rest of the machine)</summary>

| round | route | server | req/s | p50 ms | p99 ms | server CPU | Postgres CPU | other CPU |
| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${perRun.join('\n')}

</details>

<details><summary>EXPLAIN (ANALYZE, BUFFERS), warm</summary>

\`\`\`
${sql.listLimit.replace(/\s+/g, ' ').trim()}   -- $1 = the account, $2 = ${PAGE_SIZE + 1}
${plans.list}

${sql.count}   -- $1 = the account
${plans.count}
\`\`\`

</details>
`;
  if (ONLY) {
    console.log(`\n--only ${ONLY}: docs/benchmarks.md not written`);
    console.log(`${ONLY} ratio: ${f2(ONLY === 'list' ? listRatio : countRatio)}`);
    return;
  }
  const file = writeApiSection(REPO_ROOT, doc);
  console.log(`\nfigures written to ${path.relative(REPO_ROOT, file)} (## API)`);
  console.log(`list ratio: ${f2(listRatio)}`);
  console.log(`count ratio: ${f2(countRatio)}`);
}

main().catch((e: unknown) => {
  console.error(`bench:api failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
