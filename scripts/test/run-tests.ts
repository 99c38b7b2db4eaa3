// `npm test [-- <jest args>]`: everything a run needs, then jest, and a guaranteed end.
//  1. the programs of scripts/test/requirements.ts: installed with apt when missing and we are
//     root, else one line naming what to install;
//  2. Postgres and RabbitMQ reachable, else one line each saying how to start them;
//  3. a database, vhost and queue prefix of this run's own (removed afterwards unless
//     TEST_KEEP=1), and the leftovers of dead runs removed;
//  4. jest --runInBand in a process group of its own. When jest has written its results but
//     has not exited TEST_EXIT_GRACE_S (15) later, something is still open: the group is killed
//     and the run ends with jest's result. After TEST_DEADLINE_MIN (20) minutes everything is
//     killed and the run fails. Kamailio and sipp are in the group, so they go too.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as amqp from 'amqplib';
import { installLine, missingRequirements, onPath, Requirement } from './requirements';
import { adminUrlOf, removeLeftovers, removeRun, runResources, withClient } from './run-resources';

const ROOT = resolve(__dirname, '../..');
const BASE_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/registrations_test';
const BASE_AMQP_URL =
  process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/registrations-test';
const DEADLINE_MS = Number(process.env.TEST_DEADLINE_MIN ?? 20) * 60_000;
const EXIT_GRACE_MS = Number(process.env.TEST_EXIT_GRACE_S ?? 15) * 1000;
const KEEP = process.env.TEST_KEEP === '1';

const say = (line: string): void => void process.stderr.write(`[npm test] ${line}\n`);

function ensurePrograms(): void {
  let missing = missingRequirements();
  if (missing.length === 0) return;
  if (process.getuid?.() === 0 && onPath('apt-get')) {
    install(missing);
    missing = missingRequirements();
  }
  if (missing.length) {
    say(installLine(missing));
    process.exit(1);
  }
}

/** apt-get under a lock: two runs installing at once would fail on dpkg's own lock. */
function install(missing: readonly Requirement[]): void {
  const pkgs = [...new Set(missing.map((r) => r.apt))];
  say(`installing ${pkgs.join(' ')} (missing: ${missing.map((r) => r.name).join(', ')})`);
  const script = `apt-get update -qq && apt-get install -y -qq --no-install-recommends ${pkgs.join(' ')}`;
  const [bin, ...argv] = onPath('flock')
    ? ['flock', '/var/lock/registrations-test-apt.lock', 'sh', '-c', script]
    : ['sh', '-c', script];
  spawnSync(bin, argv, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

async function ensureServices(): Promise<void> {
  const db = new URL(BASE_DATABASE_URL);
  const mq = new URL(BASE_AMQP_URL);
  const problems: string[] = [];
  await withClient(adminUrlOf(BASE_DATABASE_URL), (c) => c.query('SELECT 1')).catch((e: Error) =>
    problems.push(
      `Postgres is not reachable at ${db.host} (${e.message}): start it with ` +
        '`docker compose up -d postgres` (or `sudo service postgresql start`)',
    ),
  );
  mq.pathname = '/';
  await amqp
    .connect(mq.toString(), { timeout: 3000 })
    .then((c) => c.close())
    .catch((e: Error) =>
      problems.push(
        `RabbitMQ is not reachable at ${mq.host} (${e.message}): start it with ` +
          '`docker compose up -d rabbitmq` (or `sudo service rabbitmq-server start`)',
      ),
    );
  if (problems.length) {
    problems.forEach(say);
    process.exit(1);
  }
}

interface JestOutcome {
  code: number;
  why?: string;
}

function runJest(env: NodeJS.ProcessEnv, args: string[]): Promise<JestOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'npm-test-'));
  const results = join(dir, 'results.json');
  const jestBin = require.resolve('jest/bin/jest', { paths: [ROOT] });
  // detached: a process group of its own, so that one kill reaches jest and all it started.
  const child = spawn(
    process.execPath,
    [jestBin, '--runInBand', '--json', '--outputFile', results, ...args],
    { cwd: ROOT, env, stdio: 'inherit', detached: true },
  );
  const killGroup = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-(child.pid as number), sig);
    } catch {
      // gone
    }
  };
  return new Promise<JestOutcome>((done) => {
    let finishedAt: number | undefined;
    let outcome: JestOutcome | undefined;
    const finish = (o: JestOutcome): void => {
      outcome ??= o;
      clearInterval(watch);
      clearTimeout(deadline);
      killGroup('SIGKILL'); // whatever jest left behind (Kamailio workers, sipp)
      rmSync(dir, { recursive: true, force: true });
      done(outcome);
    };
    const resultCode = (): number | undefined => {
      try {
        return (JSON.parse(readFileSync(results, 'utf8')) as { success: boolean }).success ? 0 : 1;
      } catch {
        return undefined; // not written yet, or being written
      }
    };
    child.once('exit', (code, signal) =>
      finish({
        code: code ?? resultCode() ?? 1,
        why: signal ? `jest ended by ${signal}` : undefined,
      }),
    );
    const watch = setInterval(() => {
      if (finishedAt === undefined && existsSync(results) && resultCode() !== undefined)
        finishedAt = Date.now();
      if (finishedAt !== undefined && Date.now() - finishedAt > EXIT_GRACE_MS) {
        say(
          `jest finished but did not exit within ${EXIT_GRACE_MS / 1000} s (a handle left open; ` +
            '`npx jest --detectOpenHandles <file>` shows it): killed it',
        );
        finish({ code: resultCode() ?? 1 });
      }
    }, 500);
    const deadline = setTimeout(() => {
      const min = DEADLINE_MS / 60_000;
      say(
        `!!! DEADLINE: the run took more than ${min} min (TEST_DEADLINE_MIN): killing it. FAILED.`,
      );
      killGroup('SIGTERM');
      setTimeout(() => finish({ code: 1, why: `killed at the ${min}-minute deadline` }), 5000);
    }, DEADLINE_MS);
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.once(sig, () => {
        say(`${sig}: stopping jest`);
        killGroup('SIGTERM');
        setTimeout(() => finish({ code: 130, why: sig }), 3000);
      });
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  ensurePrograms();
  await ensureServices();
  const adminUrl = adminUrlOf(BASE_DATABASE_URL);
  const removed = await removeLeftovers(adminUrl, BASE_AMQP_URL).catch((e: Error) => {
    say(`could not remove leftovers of earlier runs: ${e.message}`);
    return [];
  });
  if (removed.length) say(`removed leftovers of dead runs: ${removed.join(', ')}`);
  const run = runResources(BASE_DATABASE_URL, BASE_AMQP_URL);
  say(`database ${run.database}, vhost ${run.vhost}, queue prefix ${run.queuePrefix}`);
  const started = Date.now();
  const outcome = await runJest(
    {
      ...process.env,
      TEST_DATABASE_URL: run.databaseUrl,
      TEST_AMQP_URL: run.amqpUrl,
      TEST_QUEUE_PREFIX: run.queuePrefix,
    },
    args,
  );
  if (KEEP) say(`kept (TEST_KEEP=1): database ${run.database}, vhost ${run.vhost}`);
  else
    await removeRun(run, adminUrl).catch((e: Error) =>
      say(`could not remove ${run.database} / ${run.vhost}: ${e.message}`),
    );
  const took = ((Date.now() - started) / 1000).toFixed(0);
  say(
    `${outcome.code === 0 ? 'passed' : 'FAILED'} in ${took} s${outcome.why ? ` (${outcome.why})` : ''}`,
  );
  process.exit(outcome.code);
}

main().catch((e: unknown) => {
  say(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
