// Charts of one account and its sub-accounts, from the aggregate endpoints (computed in SQL):
// bindings live per minute, registrations and ends per minute by reason, and user agents as a
// breakdown. Drawn as plain SVG; every figure is also written out as text (for screen readers
// and the tests).
import { useEffect, useState } from 'preact/hooks';
import { accountPath, request } from './api';
import { splitAgent } from './agents';

type Window = 'hour' | 'day' | 'week';
interface LivePoint {
  t: number;
  live: number;
}
interface ActivityPoint {
  t: number;
  registered: number;
  unregistered: number;
  expired: number;
  flushed: number;
  replaced: number;
}
interface Agents {
  total: number;
  user_agents: { user_agent: string | null; count: number }[];
}

const REASONS = ['unregistered', 'expired', 'flushed', 'replaced'] as const;
const COLORS: Record<string, string> = {
  registered: '#1f7a3a',
  unregistered: '#5b6475',
  expired: '#c27c0e',
  flushed: '#b3261e',
  replaced: '#6a3fb5',
};
const W = 720;
const H = 180;

const time = (t: number) =>
  new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function LiveChart(props: { points: LivePoint[] }) {
  const pts = props.points;
  if (pts.length === 0) return <p>No data.</p>;
  const highest = Math.max(...pts.map((p) => p.live));
  const max = Math.max(1, highest);
  const x = (i: number) => (pts.length === 1 ? W : (i / (pts.length - 1)) * W);
  const y = (v: number) => H - (v / max) * (H - 10);
  const line = pts.map((p, i) => `${x(i).toFixed(1)},${y(p.live).toFixed(1)}`).join(' ');
  const last = pts[pts.length - 1];
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H + 20}`} role="img" aria-label="Bindings live per minute">
        <line x1="0" y1={H} x2={W} y2={H} stroke="#ccd" />
        <polyline points={line} fill="none" stroke="#1f5fbf" stroke-width="2" />
        <text x="2" y="12" font-size="11" fill="#5b6475">
          {max}
        </text>
        <text x="0" y={H + 15} font-size="11" fill="#5b6475">
          {time(pts[0].t)}
        </text>
        <text x={W} y={H + 15} font-size="11" fill="#5b6475" text-anchor="end">
          {time(last.t)}
        </text>
      </svg>
      <figcaption>
        Live at {time(last.t)}: <strong data-testid="live-latest">{last.live}</strong>; highest:{' '}
        <strong data-testid="live-max">{highest}</strong>
      </figcaption>
    </figure>
  );
}

function ActivityChart(props: { points: ActivityPoint[]; from: number; minutes: number }) {
  const { points, from, minutes } = props;
  const totals = { registered: 0, unregistered: 0, expired: 0, flushed: 0, replaced: 0 };
  let max = 1;
  for (const p of points) {
    totals.registered += p.registered;
    for (const r of REASONS) totals[r] += p[r];
    max = Math.max(
      max,
      p.registered,
      REASONS.reduce((n, r) => n + p[r], 0),
    );
  }
  const half = H / 2;
  const bw = Math.max(1, W / minutes - 1);
  const x = (t: number) => ((t - from) / 60 / minutes) * W;
  return (
    <figure>
      <svg viewBox={`0 0 ${W} ${H + 20}`} role="img" aria-label="Registrations and ends per minute">
        <line x1="0" y1={half} x2={W} y2={half} stroke="#ccd" />
        {points.map((p) => {
          const h = (p.registered / max) * (half - 4);
          let below = half;
          return (
            <g key={p.t}>
              {p.registered > 0 && (
                <rect x={x(p.t)} y={half - h} width={bw} height={h} fill={COLORS.registered} />
              )}
              {REASONS.map((r) => {
                if (p[r] === 0) return null;
                const rh = (p[r] / max) * (half - 4);
                const rect = (
                  <rect key={r} x={x(p.t)} y={below} width={bw} height={rh} fill={COLORS[r]} />
                );
                below += rh;
                return rect;
              })}
            </g>
          );
        })}
        <text x="0" y={H + 15} font-size="11" fill="#5b6475">
          {time(from)}
        </text>
      </svg>
      <figcaption>
        <ul class="legend">
          {(['registered', ...REASONS] as const).map((k) => (
            <li key={k}>
              <span class="swatch" style={{ background: COLORS[k] }} /> {k}:{' '}
              <strong data-testid={`activity-${k}`}>{totals[k]}</strong>
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

function AgentBreakdown(props: { agents: Agents }) {
  const { total, user_agents } = props.agents;
  const shown = user_agents.reduce((n, a) => n + a.count, 0);
  const max = Math.max(1, ...user_agents.map((a) => a.count));
  return (
    <table class="agents">
      <thead>
        <tr>
          <th>Model</th>
          <th>Firmware</th>
          <th class="num">Phones</th>
          <th aria-label="Share" />
        </tr>
      </thead>
      <tbody>
        {user_agents.map((a) => {
          const { model, firmware } = splitAgent(a.user_agent);
          return (
            <tr key={a.user_agent ?? ''} data-agent={a.user_agent ?? ''}>
              <td>{model}</td>
              <td class="mono">{firmware}</td>
              <td class="num" data-testid="agent-count">
                {a.count}
              </td>
              <td class="bar">
                <span style={{ width: `${(a.count / max) * 100}%` }} />
              </td>
            </tr>
          );
        })}
        {total > shown && (
          <tr>
            <td colSpan={2}>Others</td>
            <td class="num">{total - shown}</td>
            <td />
          </tr>
        )}
      </tbody>
    </table>
  );
}

export function ChartsView(props: { accountId: string }) {
  const [win, setWin] = useState<Window>('hour');
  const [live, setLive] = useState<LivePoint[] | undefined>();
  const [activity, setActivity] = useState<ActivityPoint[] | undefined>();
  const [agents, setAgents] = useState<Agents | undefined>();
  const [error, setError] = useState<string | undefined>();
  const base = `${accountPath(props.accountId)}/stats`;
  useEffect(() => {
    let on = true;
    setError(undefined);
    Promise.all([
      request<LivePoint[]>('GET', `${base}/live?window=${win}`),
      request<ActivityPoint[]>('GET', `${base}/activity?window=${win}`),
      request<Agents>('GET', `${base}/user-agents`),
    ])
      .then(([l, a, u]) => {
        if (!on) return;
        setLive(l.data);
        setActivity(a.data);
        setAgents(u.data);
      })
      .catch((e: Error) => on && setError(e.message));
    return () => {
      on = false;
    };
  }, [base, win]);
  const minutes = { hour: 60, day: 1440, week: 10080 }[win];
  const from = live?.[0]?.t ?? Math.floor(Date.now() / 60000) * 60 - (minutes - 1) * 60;
  return (
    <section aria-labelledby="charts-title" class="charts">
      <div class="toolbar">
        <h2 id="charts-title">Charts</h2>
        <span class="hint">this account and its sub-accounts</span>
        <div role="group" aria-label="Time window">
          {(['hour', 'day', 'week'] as const).map((w) => (
            <button key={w} type="button" aria-pressed={w === win} onClick={() => setWin(w)}>
              Last {w}
            </button>
          ))}
        </div>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="panel" data-testid="chart-live">
        <h3>Bindings live, per minute</h3>
        {live ? <LiveChart points={live} /> : <p>Loading…</p>}
      </div>
      <div class="panel" data-testid="chart-activity">
        <h3>Registrations and ends per minute, by reason</h3>
        {activity ? (
          <ActivityChart points={activity} from={from} minutes={minutes} />
        ) : (
          <p>Loading…</p>
        )}
      </div>
      <div class="panel" data-testid="chart-agents">
        <h3>User agents of the live bindings</h3>
        {agents ? <AgentBreakdown agents={agents} /> : <p>Loading…</p>}
      </div>
    </section>
  );
}
