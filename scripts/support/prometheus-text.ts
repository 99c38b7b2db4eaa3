// Reading a Prometheus /metrics page (the apps' own), for benchmarks and tests.

/**
 * The sum of every sample of `name`, whatever its labels; `name` may carry a complete label set
 * (`registrations_ignored_events_total{why="stale"}`) to read that one sample.
 */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** metricSum over the app's /metrics page, fetched now. */
export async function fetchMetricSum(baseUrl: string, name: string): Promise<number> {
  return metricSum(await fetch(`${baseUrl}/metrics`).then((r) => r.text()), name);
}
