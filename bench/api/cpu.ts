// CPU seconds per process from /proc (Linux), to tell during a run whether the HTTP server
// (node), Postgres or the load generator was the busy one.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // CLK_TCK on Linux x86_64

export type CpuSnapshot = Map<number, { comm: string; ticks: number }>;

export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      out.set(Number(name), { comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

export function cpuSeconds(
  before: CpuSnapshot,
  after: CpuSnapshot,
  pick: (pid: number, comm: string) => boolean,
): number {
  let ticks = 0;
  for (const [pid, a] of after) {
    if (!pick(pid, a.comm)) continue;
    const b = before.get(pid);
    ticks += a.ticks - (b && b.comm === a.comm ? b.ticks : 0);
  }
  return ticks / TICKS_PER_S;
}

/** Busy CPU seconds of the whole machine (all processes, /proc/stat), for "who else was busy". */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal …
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / TICKS_PER_S;
}
