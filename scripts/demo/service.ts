// The registrations service the demo shows: the one already running (API and ingest answer
// /readyz), or one the demo builds and starts itself (`node dist/scripts/start.js`, what
// `npm start` runs) in a process group of its own, so that a Ctrl-C reaches only the demo,
// which stops the service last, after its phones have unregistered.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface ServiceUrls {
  api: string;
  ingest: string;
}

export interface StartedService {
  pid: number;
  logPath: string;
  running(): boolean;
  /** SIGTERM to the launcher (it stops both apps gracefully); SIGKILL to its group after 20 s. */
  stop(): Promise<void>;
  /** Synchronous last resort (process 'exit'): SIGKILL to its whole process group. */
  kill(): void;
}

const ROOT = resolve(__dirname, '../..');

/** Whether GET <url>/readyz answers 200 within a second. */
export async function ready(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Whether anything answers HTTP at <url>/readyz (a service that is up but not ready yet). */
export async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return true;
  } catch {
    return false;
  }
}

/** Builds (npm run build, as `npm start` does) and starts both apps; logs go to logPath. */
export function startService(workDir: string, log: (m: string) => void): StartedService {
  log('building the service (npm run build) …');
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`npm run build failed (exit ${build.status})`);
  const logPath = join(workDir, 'service.log');
  const out = openSync(logPath, 'a');
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist/scripts/start.js')], {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', out, out],
    detached: true,
  });
  closeSync(out);
  const pid = child.pid ?? -1;
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((r) =>
    child.once('exit', () => {
      exited = true;
      r();
    }),
  );
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // already gone
    }
  };
  return {
    pid,
    logPath,
    running: () => !exited,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => signalGroup('SIGKILL'), 20_000);
        await exit;
        clearTimeout(timer);
      }
      // The apps are the launcher's children and exit with it; anything slower goes now.
      signalGroup('SIGKILL');
    },
    kill: () => signalGroup('SIGKILL'),
  };
}

/** Waits until both apps are ready; fails at once when the launcher exited, with its log. */
export async function waitReady(
  urls: ServiceUrls,
  service: StartedService | undefined,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await ready(urls.api)) && (await ready(urls.ingest))) return;
    const gone = service !== undefined && !service.running();
    if (gone || Date.now() > deadline) {
      const tail = service ? `\n${tailOf(service.logPath)}` : '';
      throw new Error(
        `the service ${gone ? 'exited' : 'is not ready'} (${urls.api}/readyz, ${urls.ingest}/readyz)${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function tailOf(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
