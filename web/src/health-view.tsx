// Ingest health, read every 5 s: database, ingest app, broker, events per second, messages
// waiting in the ingest queues (how far behind it is) and dead letters.
import { useEffect, useState } from 'preact/hooks';
import { request } from './api';

interface Health {
  database: string;
  ingest: { status: string; database?: string; broker?: string; url: string };
  events_total: number | null;
  events_per_second: number | null;
  dead_lettered_total: number | null;
  queues: { name: string; messages: number | null; consumers: number | null }[];
  broker: string;
}

const state = (s: string | undefined) => (
  <span class={s === 'ok' ? 'ok' : 'bad'}>{s ?? 'unknown'}</span>
);
const n = (v: number | null | undefined) =>
  v === null || v === undefined ? '–' : v.toLocaleString('en');

export function HealthView() {
  const [health, setHealth] = useState<Health | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let on = true;
    const read = () =>
      request<Health>('GET', '/v2/console/health')
        .then((r) => on && (setHealth(r.data), setError(undefined)))
        .catch((e: Error) => on && setError(e.message));
    void read();
    const t = window.setInterval(() => void read(), 5_000);
    return () => {
      on = false;
      window.clearInterval(t);
    };
  }, []);
  const dead = health?.queues.find((q) => q.name.endsWith('.dead-letter'));
  const waiting = health?.queues
    .filter((q) => !q.name.endsWith('.dead-letter'))
    .reduce<number | null>((s, q) => (q.messages === null ? s : (s ?? 0) + q.messages), null);
  return (
    <section aria-labelledby="health-title" class="health">
      <div class="toolbar">
        <h2 id="health-title">Ingest health</h2>
        <span class="hint">read every 5 s</span>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {health && (
        <>
          <dl class="cards">
            <div>
              <dt>Database</dt>
              <dd data-testid="health-database">{state(health.database)}</dd>
            </div>
            <div>
              <dt>Broker</dt>
              <dd data-testid="health-broker">{state(health.broker)}</dd>
            </div>
            <div>
              <dt>Ingest app</dt>
              <dd data-testid="health-ingest">{state(health.ingest.status)}</dd>
            </div>
            <div>
              <dt>Events per second</dt>
              <dd data-testid="health-rate">{n(health.events_per_second)}</dd>
            </div>
            <div>
              <dt>Waiting in the ingest queues</dt>
              <dd data-testid="health-waiting">{n(waiting)}</dd>
            </div>
            <div>
              <dt>Dead letters waiting</dt>
              <dd data-testid="health-dead-letters">{n(dead?.messages)}</dd>
            </div>
          </dl>
          <div class="table-wrap">
            <table class="segments">
              <thead>
                <tr>
                  <th>Queue</th>
                  <th class="num">Messages</th>
                  <th class="num">Consumers</th>
                </tr>
              </thead>
              <tbody>
                {health.queues.map((q) => (
                  <tr key={q.name} data-queue={q.name}>
                    <td class="mono">{q.name}</td>
                    <td class="num">{n(q.messages)}</td>
                    <td class="num">{n(q.consumers)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="hint">
            Events consumed since the ingest app started: {n(health.events_total)}; dead-lettered:{' '}
            {n(health.dead_lettered_total)}. Ingest at {health.ingest.url} (its database:{' '}
            {health.ingest.database ?? '–'}, its broker: {health.ingest.broker ?? '–'}).
          </p>
        </>
      )}
    </section>
  );
}
