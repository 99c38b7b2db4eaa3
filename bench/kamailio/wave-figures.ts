// The figures of one bench:kamailio wave, from what was sampled: CPU seconds per process, the
// per-event lag (the k-th 200 OK against the k-th event committed) and the --timeline.
import { SippResult } from '../../test/sipp/sipp';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export interface EventLag {
  p50: number;
  p99: number;
  max: number;
}

/** CPU seconds of one wave, per process (sipp has exited by the end: not counted). */
export interface WaveCpu {
  /** Our Kamailio's processes (another Kamailio on the box counts as everything else). */
  kamailio: number;
  /** The ingest app, or the bench process running the bare pipeline. */
  consumer: number;
  /** Our database's backends (consumer and probes). */
  postgres: number;
  postgresAll: number;
  rabbitmq: number;
  /** Anything else on the box (other people's runs) competes for the same 2 cores. */
  other: number;
}

export function cpuLine(label: string, c: WaveCpu): string {
  const f = (n: number) => n.toFixed(1);
  return (
    `CPU s: kamailio ${f(c.kamailio)}, ${label} ${f(c.consumer)}, postgres ${f(c.postgres)} ` +
    `(all databases ${f(c.postgresAll)}), rabbitmq ${f(c.rabbitmq)}, everything else ${f(c.other)}`
  );
}

/** 200 OKs answered and events committed every 250 ms of a wave (--timeline). */
export function printTimeline(
  tag: string,
  sipp: SippResult,
  samples: { at: number; n: number }[],
  end: number,
) {
  const oks = sipp.responseTimes ?? [];
  console.log(`${tag} timeline:`);
  for (let t = 0; t < end - sipp.startedAt + 250; t += 250) {
    const at = sipp.startedAt + t;
    const ok = oks.filter((x) => x <= at).length;
    const db = samples.filter((x) => x.at <= at).pop()?.n ?? 0;
    console.log(`  +${t} ms: ${fmt(ok)} answered, ${fmt(db)} committed, ${fmt(ok - db)} behind`);
  }
}

/**
 * The k-th 200 OK against the first sample showing k events committed (FIFO: Kamailio publishes
 * in the order it answers, one queue): percentiles over every event, to the sampling's 25 ms.
 */
export function perEventLag(okTimes: number[], samples: { at: number; n: number }[]): EventLag {
  const lags: number[] = [];
  let s = 0;
  for (let k = 0; k < okTimes.length; k++) {
    while (s < samples.length && samples[s].n < k + 1) s++;
    if (s === samples.length) break;
    lags.push(samples[s].at - okTimes[k]);
  }
  lags.sort((a, b) => a - b);
  const at = (q: number) =>
    lags.length ? lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] : NaN;
  return { p50: at(0.5), p99: at(0.99), max: lags.length ? lags[lags.length - 1] : NaN };
}
