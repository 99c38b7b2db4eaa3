// `npm run demo`: the real thing, next to the registrations service. A real Kamailio with the
// kazoo module publishing to the service's RabbitMQ, sipp phones registering, refreshing and
// unregistering in a loop, accounts and an API key made as the CLI makes them, and the curl
// lines (with a real token) to look at it all. Ctrl-C (SIGINT/SIGTERM): the phones unregister,
// Kamailio stops, the service stops if the demo started it, and the demo checks that nothing
// it started is left running.
//
//   npm run demo -- [--phones 20] [--realms 2] [--interval 5] [--expires 120] [--duration S]
//                   [--sip-port 5080] [--no-start] [--api URL] [--ingest URL] [--public-api URL]
//                   [--work-dir DIR]
import 'reflect-metadata';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppConfig, ConfigError, loadConfig, redactUrl } from '@app/config';
import { findFreePort, KamailioHandle, startKamailio } from '../../test/kamailio/kamailio-harness';
import { makePhones, Phone } from '../../test/sipp/make-phones';
import { runSipp } from '../../test/sipp/sipp';
import { createDemoAccounts, DemoAccounts, login } from './demo-accounts';
import { afterCycle, planCycle } from './phone-plan';
import { descendants, processes } from './processes';
import { answers, ready, ServiceUrls, StartedService, startService, waitReady } from './service';

const USAGE = `usage: npm run demo -- [--phones 20] [--realms 2] [--interval 5] [--expires 120]
  [--duration SECONDS] [--sip-port 5080] [--no-start] [--api URL] [--ingest URL]
  [--public-api URL] [--work-dir DIR]`;
const KAZOO_MODULE = '/usr/lib/x86_64-linux-gnu/kamailio/modules/kazoo.so';
const INSTALL = 'apt-get install kamailio kamailio-kazoo-modules sip-tester';

const log = (m: string): void => console.log(`[demo] ${m}`);

interface Options {
  phones: number;
  realms: number;
  intervalS: number;
  expiresS: number;
  durationS?: number;
  sipPort: number;
  start: boolean;
  urls: ServiceUrls;
  publicApi: string;
  /** Made once the programs are known to be there. */
  workDir?: string;
}

function options(argv: string[], config: AppConfig): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      phones: { type: 'string', default: '20' },
      realms: { type: 'string', default: '2' },
      interval: { type: 'string', default: '5' },
      expires: { type: 'string', default: '120' },
      duration: { type: 'string' },
      // Not 5060/5061: fetch() refuses them (the Fetch standard's bad ports), and Kamailio's
      // JSON-RPC is served on the SIP TCP port.
      'sip-port': { type: 'string', default: '5080' },
      'no-start': { type: 'boolean', default: false },
      api: { type: 'string' },
      ingest: { type: 'string' },
      'public-api': { type: 'string' },
      'work-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new UsageError(`--${name} must be a whole number from ${min} to ${max}: ${v}`);
    return n;
  };
  const api = (values.api ?? `http://127.0.0.1:${config.PORT}`).replace(/\/$/, '');
  if (['5060', '5061'].includes(values['sip-port']))
    throw new UsageError(
      '--sip-port: not 5060/5061 (fetch() refuses them, and Kamailio answers JSON-RPC on that port)',
    );
  return {
    phones: num('phones', values.phones, 1, 10_000),
    realms: num('realms', values.realms, 1, 99),
    intervalS: num('interval', values.interval, 1, 3600),
    expiresS: num('expires', values.expires, 10, 86_400),
    durationS:
      values.duration === undefined ? undefined : num('duration', values.duration, 1, 86_400),
    sipPort: num('sip-port', values['sip-port'], 1024, 65_535),
    start: !values['no-start'],
    urls: {
      api,
      ingest: (values.ingest ?? `http://127.0.0.1:${config.INGEST_PORT}`).replace(/\/$/, ''),
    },
    publicApi: (values['public-api'] ?? api).replace(/\/$/, ''),
    workDir: values['work-dir'],
  };
}

class UsageError extends Error {}

/** Kamailio, its kazoo module and sipp, or one line saying what to install. */
function checkPrograms(): void {
  const onPath = (bin: string) =>
    (bin.includes('/') && existsSync(bin)) ||
    (process.env.PATH ?? '')
      .split(delimiter)
      .concat(['/usr/sbin', '/usr/local/sbin'])
      .some((d) => existsSync(join(d, bin)));
  const missing = [
    !onPath(process.env.KAMAILIO_BIN ?? 'kamailio') && 'kamailio',
    !existsSync(KAZOO_MODULE) && `the kazoo module (${KAZOO_MODULE})`,
    !onPath(process.env.SIPP_BIN ?? 'sipp') && 'sipp',
  ].filter(Boolean);
  if (missing.length > 0)
    throw new UsageError(
      `the demo needs ${missing.join(', ')}: ${INSTALL} (Debian/Ubuntu), or run it in Docker: docker compose --profile demo up`,
    );
}

async function main(argv: string[]): Promise<void> {
  const config = loadConfig();
  const opts = options(argv, config);
  checkPrograms();
  const o = {
    ...opts,
    workDir: mkdirP(opts.workDir ?? mkdtempSync(join(tmpdir(), 'registrations-demo-'))),
  };

  // Stop requests: the first starts an orderly stop; one more, a second or more later, forces
  // it (a single Ctrl-C under `npm run` arrives twice: from the terminal and from npm).
  let stopRequested: string | undefined;
  let firstStopAt = 0;
  let wakeUp: () => void = () => undefined;
  let service: StartedService | undefined;
  let kam: KamailioHandle | undefined;
  const requestStop = (why: string): void => {
    if (stopRequested === undefined) {
      stopRequested = why;
      firstStopAt = Date.now();
      log(`${why}: stopping (the phones unregister first) …`);
      wakeUp();
    } else if (Date.now() - firstStopAt > 1000) {
      log('stopping at once');
      if (kam) killTree(kam.pid);
      service?.kill();
      process.exit(130);
    }
  };
  process.on('SIGINT', () => requestStop('SIGINT'));
  process.on('SIGTERM', () => requestStop('SIGTERM'));
  // A SIGTERM to `npm run demo` kills npm and its shell without reaching this process: stop
  // as well when the parent is gone.
  const parent = process.ppid;
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      requestStop('the parent process exited');
    }
  }, 1000).unref();
  // Last resort when the demo itself fails: nothing it started may outlive it.
  process.on('exit', () => service?.kill());

  try {
    // 1. The service: the running one, or one started here.
    if ((await ready(o.urls.api)) && (await ready(o.urls.ingest))) {
      log(`service: already running (API ${o.urls.api}, ingest ${o.urls.ingest})`);
    } else if ((await answers(o.urls.api)) || (await answers(o.urls.ingest)) || !o.start) {
      log(`service: waiting for ${o.urls.api}/readyz and ${o.urls.ingest}/readyz …`);
      await waitReady(o.urls, undefined, 60_000);
    } else {
      service = startService(o.workDir, log);
      log(`service: started by the demo (pid ${service.pid}, log ${service.logPath})`);
      await waitReady(o.urls, service, 120_000);
    }
    if (stopRequested) return await shutdown();

    // 2. Accounts, an API key and a token.
    const domain = 'demo.example.net';
    const phones = makePhones({
      count: o.phones,
      realms: o.realms,
      domain,
      callIdPrefix: 'demo',
      expires: o.expiresS,
    });
    const realms = [...new Set(phones.map((p) => p.realm))];
    const accounts = await createDemoAccounts(config, domain, realms, log);
    let token = await login(o.urls.api, accounts.apiKey);

    // 3. Kamailio, on the service's RabbitMQ.
    // That port when it is free (findFreePort over that one port), else any free port.
    const sipPort = await findFreePort(o.sipPort, o.sipPort + 1).catch(() => findFreePort());
    kam = await startKamailio({
      amqpUrl: config.AMQP_URL,
      sipPort,
      workDir: mkdirP(join(o.workDir, 'kamailio')),
      nodeHostname: 'demo.kamailio',
      appName: 'kamailio-demo',
      registrarDurable: config.KAZOO_EXCHANGE_DURABLE,
      children: 2,
      shmMb: 128,
      detached: true,
    });
    const sippPort = await findFreePort();
    log(
      `Kamailio ${kam.pid} (kazoo module) on sip:127.0.0.1:${sipPort} (udp, tcp), publishing to ${redactUrl(config.AMQP_URL)}; log ${kam.logPath}`,
    );
    log(
      `${o.phones} sipp phones over ${realms.length} realm(s) (${realms.slice(0, 3).join(', ')}${realms.length > 3 ? ', …' : ''}), Expires ${o.expiresS} s, a cycle every ${o.intervalS} s`,
    );
    printCurls(o, accounts, token, sipPort, service !== undefined);

    // 4. The loop: each cycle the phones that left come back, some leave, the rest refresh.
    const apiCount = async (): Promise<number> => {
      let n = 0;
      for (const a of accounts.realms) {
        let res = await fetch(`${o.urls.api}/v2/accounts/${a.id}/registrations/count`, {
          headers: { 'x-auth-token': token },
        });
        if (res.status === 401) {
          token = await login(o.urls.api, accounts.apiKey);
          res = await fetch(`${o.urls.api}/v2/accounts/${a.id}/registrations/count`, {
            headers: { 'x-auth-token': token },
          });
        }
        if (!res.ok) throw new Error(`the API answered ${res.status}`);
        n += ((await res.json()) as { data: { count: number } }).data.count;
      }
      return n;
    };
    const sipp = (scenario: 'register' | 'unregister', only: Set<number>, cseq: number) =>
      sippRun(o.workDir, { scenario, phones, only, port: sipPort, localPort: sippPort, cseq });
    let registered = new Set<number>();
    let cseq = 0;
    const deadline = o.durationS ? Date.now() + o.durationS * 1000 : Infinity;
    for (let cycle = 1; !stopRequested; cycle++) {
      const plan = planCycle(phones.length, registered);
      cseq++;
      if (plan.register.size > 0) await sipp('register', plan.register, cseq);
      if (plan.leaving.length > 0 && !stopRequested)
        await sipp('unregister', new Set(plan.leaving), cseq);
      // Stopped mid-cycle: what happened is unclear (sipp may have been interrupted), and
      // every phone unregisters next anyway.
      if (stopRequested) break;
      registered = afterCycle(plan);
      const inKamailio = await kam.countContacts();
      const inApi = await shown(settle(apiCount, inKamailio, 3000));
      log(
        `cycle ${cycle}: +${plan.coming.length} registered, ${plan.refreshing.length} refreshed, ` +
          `-${plan.leaving.length} unregistered · Kamailio holds ${inKamailio} · the API lists ${inApi}`,
      );
      if (Date.now() >= deadline) requestStop(`--duration ${o.durationS} s reached`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, o.intervalS * 1000);
        wakeUp = () => {
          clearTimeout(t);
          r();
        };
      });
    }

    // 5. The phones unregister (all of them: a flush may have changed what Kamailio holds).
    await sipp('unregister', new Set(phones.keys()), cseq + 1);
    // The service may be stopping too (docker compose stop): say so, and stop all the same.
    const left = await shown(settle(apiCount, 0, 5000));
    log(
      `phones unregistered · Kamailio holds ${await shown(kam.countContacts())} · the API lists ${left}`,
    );
    await shutdown();
  } catch (e) {
    await shutdown().catch(() => undefined);
    throw e;
  }

  async function shutdown(): Promise<void> {
    // Everything ours before stopping: a Kamailio worker that outlives its main process is
    // re-parented and would no longer show as our descendant.
    const ours = descendants();
    if (kam) {
      await kam.stop();
      log('Kamailio stopped');
    }
    if (service) {
      await service.stop();
      log('service stopped');
    }
    // What `ps` would show of ours: nothing (given a moment to finish exiting), else it goes
    // now and we say what it was.
    const alive = () => {
      const now = processes();
      const same = new Set(ours.map((p) => `${p.pid} ${p.cmdline}`));
      return [
        ...descendants(),
        ...now.filter((p) => same.has(`${p.pid} ${p.cmdline}`) && p.pid !== process.pid),
      ];
    };
    let left = alive();
    for (let i = 0; i < 20 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      left = alive();
    }
    for (const p of left) killTree(p.pid);
    if (left.length === 0) log(`nothing left running; logs in ${o.workDir}`);
    else log(`killed what was left: ${left.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`);
  }
}

/** One sipp run in a directory of its own, removed after (a long demo would pile up files). */
async function sippRun(
  workDir: string,
  opts: {
    scenario: string;
    phones: Phone[];
    only: Set<number>;
    port: number;
    localPort: number;
    cseq: number;
  },
): Promise<void> {
  const dir = mkdtempSync(join(workDir, 'sipp-'));
  try {
    const rate = Math.max(100, opts.phones.length * 2);
    const r = await runSipp({ ...opts, rate, timeoutSec: 60, workDir: dir });
    if (r.failed > 0)
      log(`sipp ${opts.scenario}: ${r.failed} of ${r.selected} failed\n${r.errors}`);
  } catch (e) {
    // sipp interrupted by the terminal's Ctrl-C (it shares our process group): the loop stops.
    log(`sipp ${opts.scenario}: ${(e as Error).message.split('\n')[0]}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A count for the status line, or why there is none (the API restarting, say). */
function shown(count: Promise<number>): Promise<string> {
  return count.then(String, (e: unknown) => `nothing (${(e as Error).message})`);
}

/** Polls probe until it returns want (or the time is up); returns the last value. */
async function settle(probe: () => Promise<number>, want: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  let n = await probe();
  while (n !== want && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    n = await probe();
  }
  return n;
}

function printCurls(
  o: Options,
  a: DemoAccounts,
  token: string,
  sipPort: number,
  ownService: boolean,
): void {
  const api = o.publicApi;
  const first = a.realms[0];
  const user = 'user0001';
  const h = `-H 'X-Auth-Token: ${token}'`;
  console.log(`
Accounts: "${a.parent.name}" ${a.parent.id} (API key below) with one child per realm:
${a.realms.map((r) => `  ${r.id}  ${r.realm}`).join('\n')}

Look at the registrations (the token is valid for an hour; run this demo again or the last line for a new one):

  curl -s ${api}/v2/accounts/${first.id}/registrations ${h}
  curl -s ${api}/v2/accounts/${first.id}/registrations/count ${h}
  curl -sN '${api}/v2/accounts/${first.id}/registrations/changes?auth_token=${token}'    # live changes (SSE)
  curl -s -X DELETE ${api}/v2/accounts/${first.id}/registrations/${user} ${h}    # flush a phone: Kamailio drops it, it registers again next cycle
  curl -s -d '{"jsonrpc":"2.0","method":"ul.dump","params":["brief"],"id":1}' http://127.0.0.1:${sipPort}/RPC    # Kamailio's own view
  curl -s -X PUT ${api}/v2/api_auth -d '{"data":{"api_key":"${a.apiKey}"}}'    # a new token

Ctrl-C to stop: the phones unregister, Kamailio stops${ownService ? ', then the service' : ' (the service keeps running)'}.
`);
}

function mkdirP(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** SIGKILL to a process and its descendants (Kamailio's workers). */
function killTree(pid: number): void {
  for (const p of [...descendants(pid), { pid }]) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (e: unknown) => {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${(e as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    console.error(`demo failed: ${(e as Error)?.stack ?? String(e)}`);
    process.exit(1);
  },
);
