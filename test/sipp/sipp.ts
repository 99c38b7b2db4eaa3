/**
 * Runs sipp with register.xml / unregister.xml against a registrar on 127.0.0.1.
 *
 * sipp only matches a response to a call by Call-ID, and a call's Call-ID always comes from
 * -cid_str (%u = call number), never from the injection file. So the phones file must use
 * Call-IDs "<prefix>-<line>@<host>" (make-phones.ts does) and this runner derives -cid_str
 * "<prefix>-%u@<host>" from it. To act on a subset of phones, every line is still read (call
 * number == line number keeps each phone's Call-ID) and the others are marked skip (field6=1).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertInstalled } from '../../scripts/test/requirements';
import { Phone, phonesCsv, readPhonesCsv } from './make-phones';

export interface SippOptions {
  /** 'register' or 'unregister' (scenarios next to this file), or a path to a scenario .xml. */
  scenario: string;
  /** The phones, or the CSV written by make-phones.ts. */
  phones: readonly Phone[] | string;
  /** Only these phones (by index in `phones` or predicate); default all. */
  only?: ReadonlySet<number> | ((p: Phone, index: number) => boolean);
  /** Registrar port on 127.0.0.1. */
  port: number;
  /** Local port sipp binds (the phones' Contact port). */
  localPort: number;
  transport?: 'udp' | 'tcp';
  /** Calls (REGISTERs) per second. Default 100. */
  rate?: number;
  /** First CSeq ([cseq]); a refresh must use a higher one than the previous run. Default 1. */
  cseq?: number;
  /** Max simultaneous calls (-l). Default max(100, 2 x rate). */
  limit?: number;
  /** Kill sipp after this many seconds (-timeout); it then counts as failed. Default 300. */
  timeoutSec?: number;
  /** Directory for error log and statistics. Default: a new temp dir. */
  workDir?: string;
  /** Extra sipp arguments. */
  extraArgs?: string[];
  /**
   * Record every response time (-trace_rtt -rtt_freq 1) to know when the last 200 OK arrived
   * (`lastResponseAt`). Costs one line per phone in the work dir.
   */
  traceRtt?: boolean;
}

export interface SippResult {
  /** sipp's exit code: 0 all calls succeeded, 1 some failed, 97/99/255 aborted. */
  exitCode: number;
  /** REGISTERs sent for this run (phones selected). */
  selected: number;
  /** Calls sipp counts as successful (skipped lines count as successful too). */
  successful: number;
  failed: number;
  retransmissions: number;
  /** Messages sipp could not match to a call (should be 0). */
  outOfCall: number;
  durationMs: number;
  /** Epoch ms: sipp started (from its statistics file, else when spawned) and exited. */
  startedAt: number;
  endedAt: number;
  /** Epoch ms the last 200 OK arrived (with `traceRtt`; sipp's own clock, ms resolution). */
  lastResponseAt?: number;
  /** Epoch ms of every 200 OK, in order (with `traceRtt`). */
  responseTimes?: number[];
  statFile: string;
  errorFile: string;
  /** Last lines of the error file when there were failures. */
  errors: string;
}

// Compiled into dist/test/sipp/ (the benchmark imports this file), the scenarios stay in the
// source tree: next to this file, or test/sipp/ of the repository (from dist/, or the current
// directory).
export const SCENARIO_DIR =
  [__dirname, resolve(__dirname, '../../../test/sipp'), resolve('test/sipp')].find((d) =>
    existsSync(join(d, 'register.xml')),
  ) ?? __dirname;
const SIPP_BIN = process.env.SIPP_BIN ?? 'sipp';

/** -cid_str reproducing every phone's Call-ID from its line number; throws if impossible. */
export function cidStrFor(phones: readonly Phone[]): string {
  const m = /^(.*-)1(@.*)$/.exec(phones[0]?.callId ?? '');
  if (!m)
    throw new Error(`Call-ID of line 1 must look like "<prefix>-1@<host>": ${phones[0]?.callId}`);
  const [, pre, post] = m;
  phones.forEach((p, i) => {
    if (p.callId !== `${pre}${i + 1}${post}`) {
      throw new Error(`Call-ID of line ${i + 1} must be ${pre}${i + 1}${post}, not ${p.callId}`);
    }
  });
  const esc = (s: string): string => s.replace(/%/g, '%%');
  return `${esc(pre)}%u${esc(post)}`;
}

export async function runSipp(opts: SippOptions): Promise<SippResult> {
  assertInstalled(['sipp']);
  const phones = typeof opts.phones === 'string' ? readPhonesCsv(opts.phones) : opts.phones;
  if (phones.length === 0) throw new Error('no phones');
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'sipp-'));
  const scenario = /\.xml$/.test(opts.scenario)
    ? resolve(opts.scenario)
    : join(SCENARIO_DIR, `${opts.scenario}.xml`);
  if (!existsSync(scenario)) throw new Error(`no scenario ${scenario}`);

  const only = opts.only;
  const selected = (p: Phone, i: number): boolean =>
    only === undefined ? true : typeof only === 'function' ? only(p, i) : only.has(i);
  const tag = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const csv = join(workDir, `phones-${tag}.csv`);
  writeFileSync(
    csv,
    phonesCsv(phones, (p, i) => !selected(p, i)),
  );
  const statFile = join(workDir, `stat-${tag}.csv`);
  const errorFile = join(workDir, `errors-${tag}.log`);
  const rate = opts.rate ?? 100;

  // prettier-ignore
  const args = [
    `127.0.0.1:${opts.port}`,
    '-sf', scenario,
    '-inf', csv,
    '-m', String(phones.length),
    '-r', String(rate),
    '-rp', '1000',
    '-l', String(opts.limit ?? Math.max(100, 2 * rate)),
    '-i', '127.0.0.1',
    '-p', String(opts.localPort),
    '-t', opts.transport === 'tcp' ? 't1' : 'u1',
    '-cid_str', cidStrFor(phones),
    '-base_cseq', String(opts.cseq ?? 1),
    '-timeout', `${opts.timeoutSec ?? 300}s`,
    '-timeout_error',
    // 4 MB socket buffers: with sipp's 64 KB default, 200 OKs are dropped in bursts, sipp
    // retransmits late and Kamailio (its transaction gone) saves and publishes once more.
    '-buff_size', String(4 * 1024 * 1024),
    '-nostdin',
    '-trace_err', '-error_file', errorFile,
    '-trace_stat', '-stf', statFile, '-fd', '1',
    ...(opts.traceRtt ? ['-trace_rtt', '-rtt_freq', '1'] : []),
    ...(opts.extraArgs ?? []),
  ];

  const started = Date.now();
  let pid = 0;
  const exitCode = await new Promise<number>((resolve, reject) => {
    // sipp redraws its screen on stdout; nobody reads it, so drop it.
    // cwd: sipp writes its -trace_rtt file into the current directory.
    const child = spawn(SIPP_BIN, args, { cwd: workDir, stdio: ['ignore', 'ignore', 'pipe'] });
    pid = child.pid ?? 0;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === null) reject(new Error(`sipp killed by ${signal}: ${stderr}`));
      else resolve(code);
    });
  });
  const endedAt = Date.now();
  const durationMs = endedAt - started;

  const stat = lastStats(statFile);
  const startedAt = stat.startTimeMs ?? started;
  let lastResponseAt: number | undefined;
  let responseTimes: number[] | undefined;
  if (opts.traceRtt) {
    // "<scenario>_<pid>_rtt.csv": Date_ms;response_time_ms;rtd_no, Date_ms from sipp's start.
    const rtt = readdirSync(workDir).find((f) => f.endsWith(`_${pid}_rtt.csv`));
    if (rtt) {
      let last = -1;
      responseTimes = [];
      for (const line of readFileSync(join(workDir, rtt), 'utf8').split('\n').slice(1)) {
        const ms = Number(line.split(';')[0]);
        if (line) responseTimes.push(Math.round(startedAt + ms));
        if (line && ms > last) last = ms;
      }
      responseTimes.sort((a, b) => a - b);
      if (last >= 0) lastResponseAt = Math.round(startedAt + last);
    }
  }
  const errors = existsSync(errorFile)
    ? readFileSync(errorFile, 'utf8').split('\n').slice(-40).join('\n')
    : '';
  return {
    exitCode,
    selected: phones.filter(selected).length,
    successful: stat['SuccessfulCall(C)'] ?? 0,
    failed: stat['FailedCall(C)'] ?? 0,
    retransmissions: stat['Retransmissions(C)'] ?? 0,
    outOfCall: stat['OutOfCallMsgs(C)'] ?? 0,
    durationMs,
    startedAt,
    endedAt,
    lastResponseAt,
    responseTimes,
    statFile,
    errorFile,
    errors,
  };
}

/**
 * Cumulative counters of the last line of sipp's -trace_stat file, and `startTimeMs` (epoch ms)
 * from its StartTime column ("date<TAB>time<TAB>epoch seconds").
 */
function lastStats(file: string): Record<string, number> & { startTimeMs?: number } {
  if (!existsSync(file)) return {};
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0].split(';');
  const last = lines[lines.length - 1].split(';');
  const out: Record<string, number> & { startTimeMs?: number } = {};
  head.forEach((h, i) => {
    const n = Number(last[i]);
    if (h && !Number.isNaN(n)) out[h] = n;
  });
  const start = Number(last[head.indexOf('StartTime')]?.split('\t')[2]);
  if (start > 0) out.startTimeMs = Math.round(start * 1000);
  return out;
}
