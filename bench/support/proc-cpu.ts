// CPU seconds used per process from /proc (Linux), for every benchmark: tells whether our
// process, Postgres, RabbitMQ or the load generator was the busy one during a run, and how busy
// the rest of the (shared) machine was. Processes that started during the run count from 0.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_S = 100; // CLK_TCK on Linux x86_64

export type CpuSnapshot = Map<number, { comm: string; ticks: number }>;

export function cpuSnapshot(): CpuSnapshot {
  const out: CpuSnapshot = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // comm may hold spaces: it is between the first '(' and the last ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' '); // f[0] is field 3 (state)
      out.set(Number(name), { comm, ticks: Number(f[11]) + Number(f[12]) }); // utime + stime
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** CPU seconds between two snapshots of the processes that `pick` selects. */
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

/**
 * CPU seconds of a run: the consumer's node process, the Postgres backends serving it (other
 * databases on this shared box are left out) and the whole RabbitMQ broker.
 */
export function cpuReport(
  before: CpuSnapshot,
  after: CpuSnapshot,
  nodePid: number,
  pgPids: number[],
): string {
  const s = (pick: (pid: number, comm: string) => boolean) =>
    cpuSeconds(before, after, pick).toFixed(1);
  return (
    `CPU s: node ${s((pid) => pid === nodePid)}, postgres ${s((pid) => pgPids.includes(pid))}, ` +
    `rabbitmq (all vhosts) ${s((_, c) => c === 'beam.smp')}`
  );
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
