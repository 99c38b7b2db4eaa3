// `npm run demo` as a newcomer runs it, next to a running service (here the ingest and API apps
// of the test harness; --no-start): its real Kamailio and sipp phones register, refresh and
// unregister, the curl line it prints answers with those phones, and a SIGINT stops it with
// every phone unregistered and nothing it started left running.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createApiApp } from '../../apps/api/src/api.bootstrap';
import { descendants, processes, Proc } from '../../scripts/demo/processes';
import { findFreePort } from '../kamailio/kamailio-harness';
import { startIngest, Harness } from '../support/ingest-harness';
import { eventually } from '../support/poll';
import { testConfig } from '../support/test-env';

const ROOT = resolve(__dirname, '../..');
const PHONES = 5;

let h: Harness | undefined;
let api: Awaited<ReturnType<typeof createApiApp>> | undefined;
let demo: ChildProcess | undefined;
let output = '';
let exit: Promise<number | null> | undefined;
const workDir = mkdtempSync(join(tmpdir(), 'demo-e2e-'));

beforeAll(async () => {
  h = await startIngest();
  api = await createApiApp(testConfig(), { port: 0 });
});

afterAll(async () => {
  // A failed test must not leave the demo, its Kamailio or sipp behind.
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    const left = descendants(demo.pid);
    demo.kill('SIGKILL');
    for (const p of left) signal(p.pid, 'SIGKILL');
  }
  await api?.app.close();
  await h?.stop();
});

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Waits for a line of the demo's output, failing at once (with the output) if it exits first. */
async function waitFor(re: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  let exited = false;
  void exit!.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(output);
    if (m) return m;
    if (exited || Date.now() > deadline)
      throw new Error(
        `${exited ? 'the demo exited' : 'timed out'} before ${re}; output:\n${output}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('shows real phones through the printed curl line, and stops on SIGINT leaving nothing running', async () => {
  const apiUrl = api!.url.replace('[::1]', '127.0.0.1');
  const ingestUrl = h!.ingest.url.replace('[::1]', '127.0.0.1');
  const config = testConfig();
  // prettier-ignore
  demo = spawn(
    process.execPath,
    [
      '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register',
      'scripts/demo/demo.ts', '--no-start',
      '--phones', String(PHONES), '--realms', '1', '--interval', '1',
      '--api', apiUrl, '--ingest', ingestUrl,
      '--sip-port', String(await findFreePort()), '--work-dir', workDir,
    ],
    {
      cwd: ROOT,
      // The harness's database, vhost and exchange settings: the demo is a client beside it.
      env: {
        ...process.env,
        DATABASE_URL: config.DATABASE_URL,
        AMQP_URL: config.AMQP_URL,
        QUEUE_PREFIX: config.QUEUE_PREFIX,
        KAZOO_EXCHANGE_DURABLE: String(config.KAZOO_EXCHANGE_DURABLE),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const child = demo;
  exit = new Promise((r) => child.once('exit', (code) => r(code)));

  // The printed curl line, with its real token.
  const [, listUrl, token] = await waitFor(
    /curl -s (http:\/\/\S+\/registrations) -H 'X-Auth-Token: ([^']+)'/,
    90_000,
  );
  const list = async () => {
    const res = await fetch(listUrl, { headers: { 'x-auth-token': token } });
    expect(res.status).toBe(200);
    return ((await res.json()) as { data: Record<string, unknown>[] }).data;
  };
  // Phones in the API, registered by the demo's Kamailio (its kazoo node), refreshed…
  const items = await eventually(
    list,
    (d) => d.some((i) => i.last_registration !== i.initial_registration),
    {
      timeoutMs: 60_000,
      what: 'a refreshed phone in the printed list',
    },
  );
  expect(items.length).toBeGreaterThanOrEqual(1);
  expect(items.length).toBeLessThanOrEqual(PHONES);
  for (const i of items) expect(i).toMatchObject({ registrar_node: 'kamailio@demo.kamailio' });
  // …and unregistered (a phone leaves every cycle).
  await eventually(
    () =>
      h!.pool
        .query(
          `SELECT count(*)::int AS n FROM registration_history WHERE realm LIKE '%.demo.example.net' AND end_reason = 'unregistered'`,
        )
        .then((r) => r.rows[0].n as number),
    (n) => n > 0,
    { timeoutMs: 30_000, what: 'an unregistered phone in the history' },
  );
  await waitFor(/cycle 3: /, 60_000);

  // What it runs now: Kamailio (main and workers) at least.
  const running: Proc[] = descendants(child.pid);
  expect(running.some((p) => p.cmdline.startsWith('kamailio'))).toBe(true);

  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    exit,
    new Promise<string>((r) => (timer = setTimeout(() => r('still running after 60 s'), 60_000))),
  ]).finally(() => clearTimeout(timer));
  expect({ code, output }).toMatchObject({ code: 0 });
  expect(output).toMatch(/phones unregistered .* the API lists 0/);
  expect(output).toMatch(/nothing left running/);
  expect(await list()).toEqual([]);
  // Nothing it ran is alive, and nothing runs from its work dir (Kamailio's config, sipp's files).
  // (processes() leaves out zombies: exited, only not yet reaped.)
  // A process killed a moment ago may take a little while to go: poll, briefly.
  const pids = new Set(running.map((p) => p.pid));
  await eventually(
    async () => processes().filter((p) => pids.has(p.pid) || p.cmdline.includes(workDir)),
    (left) => left.length === 0,
    { timeoutMs: 10_000, what: 'none of the processes the demo ran' },
  );
}, 240_000);
