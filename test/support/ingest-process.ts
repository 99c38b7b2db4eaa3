// The ingest app as a child process of its own (ts-node, as `npm run cli` runs), so that a test
// can SIGKILL it: a process that dies at an exact point, with nothing of it left to clean up.
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { eventually } from './poll';
import { laneEnv, TEST_AMQP_URL, TEST_DATABASE_URL, TEST_QUEUE_PREFIX } from './test-env';

export interface IngestProcess {
  url: string;
  child: ChildProcess;
  /** SIGKILL, and wait until it is gone. */
  kill(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startIngestProcess(
  env: Partial<Record<string, string>> = {},
): Promise<IngestProcess> {
  const port = await freePort();
  const root = path.resolve(__dirname, '../..');
  const child = spawn(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      '-r',
      'tsconfig-paths/register',
      'apps/ingest/src/main.ts',
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: TEST_DATABASE_URL,
        AMQP_URL: TEST_AMQP_URL,
        QUEUE_PREFIX: TEST_QUEUE_PREFIX,
        HOST: '127.0.0.1',
        INGEST_PORT: String(port),
        LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
        ...laneEnv(), // as testConfig (test-env.ts)
        SWEEP_INTERVAL_MS: '600000',
        RECONCILE_ON_START: 'false', // as testConfig (test-env.ts)
        ...env,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const proc: IngestProcess = {
    url,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  const status = await eventually(
    () =>
      child.exitCode !== null
        ? Promise.resolve(-1)
        : fetch(`${url}/readyz`).then(
            (r) => r.status,
            () => 0,
          ),
    (s) => s === 200 || s === -1,
    { timeoutMs: 60_000, what: 'the ingest process ready' },
  ).catch(async (e: unknown) => {
    await proc.kill();
    throw e;
  });
  if (status === -1) throw new Error(`the ingest process exited with ${child.exitCode}`);
  return proc;
}
