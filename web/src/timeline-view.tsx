// One SIP user's timeline: every binding from the history (start, refreshes, end and why) and
// the live ones, as bars on a time axis, then as a table.
import { useEffect, useState } from 'preact/hooks';
import { accountPath, request } from './api';
import { BindingItem, GREGORIAN_OFFSET_S } from './bindings';

interface Segment {
  contact: string;
  start: number;
  end?: number;
  refreshes: number;
  reason: string;
  userAgent?: string;
}
interface HistoryItem {
  contact?: string;
  initial_registration: number;
  ended?: number;
  refresh_count?: number;
  end_reason?: string;
  user_agent?: string;
}

const COLORS: Record<string, string> = {
  live: '#1f7a3a',
  unregistered: '#5b6475',
  expired: '#c27c0e',
  flushed: '#b3261e',
  replaced: '#6a3fb5',
};
const unix = (g: number) => g - GREGORIAN_OFFSET_S;
const when = (s: number) => new Date(s * 1000).toLocaleString();

export function TimelineView(props: { accountId: string; user: string }) {
  const [segments, setSegments] = useState<Segment[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [user, setUser] = useState(props.user);
  useEffect(() => setUser(props.user), [props.user]);
  useEffect(() => {
    if (!props.user) return;
    let on = true;
    const u = encodeURIComponent(props.user);
    Promise.all([
      request<HistoryItem[]>(
        'GET',
        `${accountPath(props.accountId)}/history?username=${u}&page_size=500`,
      ),
      request<BindingItem[]>(
        'GET',
        `/v2/console/accounts/${props.accountId}/bindings?filter_username=${u}&page_size=500`,
      ),
    ])
      .then(([h, l]) => {
        if (!on) return;
        const segs: Segment[] = h.data.map((i) => ({
          contact: i.contact ?? '',
          start: unix(i.initial_registration),
          end: i.ended === undefined ? undefined : unix(i.ended),
          refreshes: i.refresh_count ?? 0,
          reason: i.end_reason ?? '',
          userAgent: i.user_agent,
        }));
        for (const b of l.data)
          segs.push({
            contact: b.contact ?? '',
            start: unix(b.initial_registration ?? 0),
            refreshes: b.refresh_count ?? 0,
            reason: 'live',
            userAgent: b.user_agent,
          });
        segs.sort((a, b) => a.start - b.start);
        setSegments(segs);
      })
      .catch((e: Error) => on && setError(e.message));
    return () => {
      on = false;
    };
  }, [props.accountId, props.user]);

  const now = Date.now() / 1000;
  const from = segments?.length ? Math.min(...segments.map((s) => s.start)) : now - 3600;
  const span = Math.max(60, now - from);
  const W = 720;
  const rowH = 14;
  const x = (t: number) => ((t - from) / span) * W;
  return (
    <section aria-labelledby="timeline-title" class="timeline">
      <div class="toolbar">
        <h2 id="timeline-title">
          Timeline {props.user && <span class="count">{props.user}</span>}
        </h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            location.hash = `#/timeline?account=${props.accountId}&user=${encodeURIComponent(user)}`;
          }}
        >
          <label>
            User{' '}
            <input
              name="timeline-user"
              value={user}
              onInput={(e) => setUser((e.target as HTMLInputElement).value)}
            />
          </label>{' '}
          <button type="submit">Show</button>
        </form>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {segments && segments.length === 0 && <p>No bindings of {props.user} on record.</p>}
      {segments && segments.length > 0 && (
        <>
          <div class="panel">
            <svg
              viewBox={`0 0 ${W} ${segments.length * (rowH + 4) + 20}`}
              role="img"
              aria-label={`Bindings of ${props.user} over time`}
            >
              {segments.map((s, i) => (
                <rect
                  key={i}
                  x={x(s.start)}
                  y={i * (rowH + 4)}
                  width={Math.max(2, x(s.end ?? now) - x(s.start))}
                  height={rowH}
                  fill={COLORS[s.reason] ?? '#888'}
                >
                  <title>{`${s.contact}: ${when(s.start)} – ${s.end ? when(s.end) : 'now'} (${s.reason})`}</title>
                </rect>
              ))}
              <text x="0" y={segments.length * (rowH + 4) + 14} font-size="11" fill="#5b6475">
                {when(from)}
              </text>
              <text
                x={W}
                y={segments.length * (rowH + 4) + 14}
                font-size="11"
                fill="#5b6475"
                text-anchor="end"
              >
                now
              </text>
            </svg>
          </div>
          <div class="table-wrap">
            <table class="segments">
              <thead>
                <tr>
                  <th>Contact</th>
                  <th>Started</th>
                  <th class="num">Refreshes</th>
                  <th>Ended</th>
                  <th>Reason</th>
                </tr>
              </thead>
              <tbody>
                {segments.map((s, i) => (
                  <tr key={i} data-reason={s.reason}>
                    <td class="mono">{s.contact}</td>
                    <td>{when(s.start)}</td>
                    <td class="num">{s.refreshes}</td>
                    <td>{s.end ? when(s.end) : ''}</td>
                    <td>
                      <span class="swatch" style={{ background: COLORS[s.reason] ?? '#888' }} />{' '}
                      {s.reason === 'live' ? 'live now' : s.reason}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
