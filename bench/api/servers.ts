// The two HTTP servers under load, each in its own process: the product API app exactly as
// production starts it (`node dist/apps/api/src/main.js`), and the bare Fastify + pg ceiling.
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { existsSync } from 'node:fs';

export interface Server {
  name: string;
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

const DIST = path.resolve(__dirname, '../..'); // dist/bench/api → dist

function start(name: string, script: string, port: number, env: NodeJS.ProcessEnv): Server {
  const file = path.join(DIST, script);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  const proc = spawn(process.execPath, [file], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter((l) => l.trim())
      .forEach((l) => console.log(`  [${name}] ${l.length > 300 ? `${l.slice(0, 300)}…` : l}`));
  proc.stdout.on('data', prefix);
  proc.stderr.on('data', prefix);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    proc,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function startProduct(port: number, databaseUrl: string): Server {
  return start('product', 'apps/api/src/main.js', port, {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
}

/** application_name of the bare server's connections (the product's are its own). */
export const BARE_APP = 'bench-api-bare';

export function startBare(port: number, databaseUrl: string): Server {
  return start('bare', 'bench/api/bare-server.js', port, {
    DATABASE_URL: databaseUrl,
    BARE_PORT: String(port),
    BARE_APP,
  });
}

/** Waits until GET url answers 200 (or the process died / the time is up). */
export async function waitReady(server: Server, pathname: string, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (server.proc.exitCode !== null) throw new Error(`${server.name} exited during start-up`);
    try {
      const res = await fetch(server.url + pathname);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`${server.name} not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
