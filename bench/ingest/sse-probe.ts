// The change feed as an API client sees it during the product's storm: the real API app
// (`node dist/apps/api/src/main.js`, its defaults) in its own process, and one Server-Sent
// Events client per watched account on GET /v2/accounts/{id}/registrations/changes, opened
// with ?since=<the position at the start of the wave> (no snapshot: every event measured is a
// change of the storm). The stream is per account (there is no all-accounts stream, even for a
// super-admin), so a few accounts stand for all of them. Each event's arrival is compared with
// its outbox row's recorded_at, the same reference as the exchange's figure.
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { APP_NODE_FLAGS } from '@app/config/node-flags';
import { AccountStore } from '@app/persistence/account.store';
import { CredentialStore } from '@app/persistence/credential.store';
import type { TrafficMessage } from '../../scripts/traffic/traffic-generator';
import { benchBackends } from './bench-env';

const MAIN = resolve(__dirname, '../../apps/api/src/main.js');
/** application_name of the API's Postgres connections (PersistenceModule.forRoot in api.module). */
export const API_APP_NAME = 'registrations-api';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WatchedAccount {
  id: string;
  name: string;
  realm: string;
}

export interface SseProbe {
  /** The API's node process, for the CPU report. */
  pid: number;
  /** The API's Postgres backends (asked at the end of a run). */
  backends: () => Promise<number[]>;
  /**
   * Waits (up to timeoutMs) for every change of the watched accounts, then the figure; throws
   * if some never arrived. Called after the wave's last commit.
   */
  report(timeoutMs: number): Promise<string>;
  /** Closes the clients and stops the API; safe to call more than once, and on failure. */
  close(): Promise<void>;
}

/** Seq → arrival (ms since epoch), read from one SSE response as it streams; `done` ends with it. */
async function openStream(
  url: string,
  abort: AbortSignal,
  arrivals: Map<number, number>,
): Promise<{ done: Promise<void> }> {
  const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort });
  if (!res.ok || !res.body)
    throw new Error(
      `SSE ${url.replace(/auth_token=[^&]+/, 'auth_token=…')} answered ${res.status}`,
    );
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const done = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        const at = Date.now(); // every event of this chunk arrived now
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const id = /^id: (\d+)$/m.exec(buffer.slice(0, cut));
          if (id) arrivals.set(Number(id[1]), at);
          buffer = buffer.slice(cut + 2);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { done };
}

export async function startSseProbe(o: {
  pool: Pool;
  accounts: WatchedAccount[];
  port: number;
  env: Record<string, string>;
}): Promise<SseProbe> {
  // The watched accounts exist before the storm (authorize() needs them), with the name and
  // realm Kamailio's Custom-Channel-Vars carry: the ingest's account upsert finds them unchanged.
  const ds = {
    query: async (sql: string, params?: unknown[]) => (await o.pool.query(sql, params)).rows,
  } as unknown as DataSource;
  const keys: string[] = [];
  for (const a of o.accounts) {
    await new AccountStore(ds).createOrAdopt(a);
    keys.push(await new CredentialStore(ds).createApiKey(a.id)); // as `api-keys:create` does
  }

  const log = join(tmpdir(), `registrations-bench-ingest-api-${process.pid}-${Date.now()}.log`);
  const out = createWriteStream(log);
  const child: ChildProcess = spawn(process.execPath, [...APP_NODE_FLAGS.api, MAIN], {
    env: { ...process.env, ...o.env, PORT: String(o.port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = once(child, 'exit').catch(() => undefined); // 'error': nothing to wait for
  const abort = new AbortController();
  const arrivals = new Map<number, number>();
  const streams: Promise<void>[] = [];
  let ok = false;
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      abort.abort();
      await Promise.all(streams);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      out.end();
      if (ok) rmSync(log, { force: true }); // kept only when something went wrong
    })());

  const url = `http://127.0.0.1:${o.port}`;
  let position = 0;
  try {
    const until = Date.now() + 60_000;
    while (
      (await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )) === false
    ) {
      if (child.exitCode !== null)
        throw new Error(`the API app exited during start-up; see ${log}`);
      if (Date.now() > until) throw new Error(`the API app was not ready in 60 s; see ${log}`);
      await sleep(100);
    }
    for (const [i, a] of o.accounts.entries()) {
      // The token from the product's own PUT /v2/api_auth, the position from its console route.
      const res = await fetch(`${url}/v2/api_auth`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ data: { api_key: keys[i] } }),
      });
      const { auth_token: token } = (await res.json()) as { auth_token?: string };
      if (res.status !== 201 || !token) throw new Error(`PUT /v2/api_auth answered ${res.status}`);
      if (i === 0) {
        const p = await fetch(`${url}/v2/accounts/${a.id}/registrations/changes/position`, {
          headers: { 'x-auth-token': token },
        });
        position = ((await p.json()) as { data: { seq: number } }).data.seq;
      }
      const feed = `${url}/v2/accounts/${a.id}/registrations/changes?since=${position}&auth_token=${encodeURIComponent(token)}`;
      streams.push((await openStream(feed, abort.signal, arrivals)).done);
    }
  } catch (e) {
    await close();
    throw e;
  }

  const ids = o.accounts.map((a) => a.id);
  return {
    pid: child.pid ?? -1,
    backends: () => benchBackends(o.pool, { app: API_APP_NAME, match: true }),
    close,
    async report(timeoutMs: number) {
      const changes = async () =>
        (
          await o.pool.query<{ seq: string; at: number }>(
            `SELECT seq::text AS seq, extract(epoch from recorded_at) * 1000 AS at
               FROM registration_changes WHERE account_id = ANY($1) AND seq > $2`,
            [ids, position],
          )
        ).rows;
      let rows = await changes();
      const until = Date.now() + timeoutMs;
      while (rows.some((r) => !arrivals.has(Number(r.seq))) && Date.now() < until) {
        if (child.exitCode !== null) throw new Error(`the API app exited; see ${log}`);
        await sleep(100);
        rows = await changes();
      }
      const lags = rows
        .filter((r) => arrivals.has(Number(r.seq)))
        .map((r) => arrivals.get(Number(r.seq))! - Number(r.at))
        .sort((a, b) => a - b);
      const fmt = (n: number) => n.toLocaleString('en-US');
      const head = `change feed SSE (${o.accounts.length} accounts, one client each): ${fmt(lags.length)} of ${fmt(rows.length)} changes received`;
      if (lags.length < rows.length)
        throw new Error(`${head} within ${timeoutMs / 1000} s of the last commit; see ${log}`);
      ok = true;
      if (lags.length === 0) return `${head}; no changes recorded`;
      const q = (x: number) =>
        Math.round(lags[Math.min(lags.length - 1, Math.floor(x * lags.length))]);
      return `${head}; recorded_at → SSE client p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`;
    },
  };
}

/** The first `n` accounts of a wave, as Kamailio's Custom-Channel-Vars name them. */
export function accountsOf(messages: readonly TrafficMessage[], n: number): WatchedAccount[] {
  const seen = new Map<string, WatchedAccount>();
  for (const m of messages) {
    const ccv = m.body['Custom-Channel-Vars'] as Record<string, string> | undefined;
    const id = ccv?.['Account-ID'];
    if (!ccv || !id || seen.has(id)) continue;
    seen.set(id, { id, name: ccv['Account-Name'], realm: ccv['Account-Realm'] });
    if (seen.size === n) break;
  }
  return [...seen.values()];
}
