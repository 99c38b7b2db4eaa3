// A private Postgres cluster for one test file: initdb into a temporary directory, started on a
// free port of its own (127.0.0.1, trust auth), so that a test can really stop and restart
// Postgres (pg_ctl stop -m immediate / fast) without disturbing anything else on the machine.
// As root, Postgres's binaries refuse to run: they run as the `postgres` OS user (runuser), in a
// directory owned by it. It is always removed: by `remove()`, by the end-of-file sweep
// (test/support/cleanup.ts) when the file did not, on process exit, and — for a run that was
// killed outright — by the next `startPrivateCluster`, which removes clusters whose creator is
// gone (the creator's pid is in the directory name).
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { closeAtEnd } from './cleanup';

const run = promisify(execFile);
const DIR_PREFIX = 'regtest-pg-';

export interface PrivateCluster {
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url: string;
  port: number;
  dir: string;
  /** pg_ctl stop: `immediate` is a crash (recovery on start), `fast` a clean shutdown. */
  stop(mode: 'immediate' | 'fast'): Promise<void>;
  start(): Promise<void>;
  /** Stops it (immediate) and deletes its directory. Idempotent. */
  remove(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<v>/bin holding initdb, or PG_BIN. */
function binDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : undefined;
}

interface RunAs {
  argv(bin: string, args: string[]): [string, string[]];
  chown(dir: string): void;
}

/** Root runs the binaries as `postgres`; anyone else as themselves. */
function runAs(): RunAs | string {
  const uid = process.getuid?.();
  if (uid === undefined) return 'no POSIX user ids on this platform';
  if (uid !== 0) return { argv: (bin, args) => [bin, args], chown: () => undefined };
  let ids: { uid: number; gid: number };
  try {
    ids = {
      uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
    };
  } catch {
    return 'running as root and there is no `postgres` OS user to run Postgres as';
  }
  return {
    argv: (bin, args) => ['runuser', ['-u', 'postgres', '--', bin, ...args]],
    chown: (dir) => fs.chownSync(dir, ids.uid, ids.gid),
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops and deletes the clusters of creators that are gone (a run killed outright). */
function removeOrphans(bin: string, as: RunAs): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const m = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    removeSync(bin, as, path.join(os.tmpdir(), name));
  }
}

function removeSync(bin: string, as: RunAs, dir: string): void {
  const data = path.join(dir, 'data');
  if (fs.existsSync(path.join(data, 'postmaster.pid'))) {
    const [cmd, args] = as.argv(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']);
    try {
      execFileSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
    } catch {
      /* not running */
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Creates and starts a private cluster with `database` in it, or says why it cannot (no
 * initdb, root without a `postgres` user, initdb or start failing) so the caller can fall back.
 */
export async function startPrivateCluster(
  database: string,
): Promise<PrivateCluster | { unavailable: string }> {
  const bin = binDir();
  if (!bin) return { unavailable: 'no initdb (set PG_BIN to the directory of initdb and pg_ctl)' };
  const as = runAs();
  if (typeof as === 'string') return { unavailable: as };
  try {
    removeOrphans(bin, as);
  } catch {
    /* best effort */
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${DIR_PREFIX}${process.pid}-`));
  const data = path.join(dir, 'data');
  let removed = false;
  const removeNow = () => {
    if (removed) return;
    removed = true;
    removeSync(bin, as, dir);
  };
  const onExit = () => removeNow();
  process.once('exit', onExit);
  const pg = async (tool: string, args: string[], timeoutMs = 120_000) => {
    const [cmd, argv] = as.argv(path.join(bin, tool), args);
    return run(cmd, argv, { timeout: timeoutMs });
  };
  try {
    as.chown(dir);
    await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
    let port = 0;
    const start = async () => {
      await pg('pg_ctl', [
        '-D',
        data,
        '-l',
        path.join(dir, 'postgres.log'),
        '-w',
        '-t',
        '120',
        '-o',
        // fsync off: the data only has to survive a Postgres crash (immediate stop), not the OS's.
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60`,
        'start',
      ]);
    };
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (e) {
        if (attempt >= 3) throw e; // (the port taken meanwhile: another one)
      }
    }
    await pg('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database]);
    const cluster: PrivateCluster = {
      url: `postgres://postgres@127.0.0.1:${port}/${database}`,
      port,
      dir,
      async stop(mode) {
        await pg('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '120', 'stop']);
      },
      start,
      async remove() {
        process.removeListener('exit', onExit);
        removeNow();
      },
    };
    return closeAtEnd(`private Postgres cluster ${dir}`, cluster, 'remove');
  } catch (e) {
    process.removeListener('exit', onExit);
    let log = '';
    try {
      log = fs.readFileSync(path.join(dir, 'postgres.log'), 'utf8').slice(-500);
    } catch {
      /* no log */
    }
    removeNow();
    const err = e as { stderr?: string; message?: string };
    return {
      unavailable: `${(err.stderr || err.message || String(e)).trim().slice(0, 300)} ${log}`.trim(),
    };
  }
}
