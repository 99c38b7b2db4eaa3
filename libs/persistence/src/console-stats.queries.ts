// The console's charts, computed in Postgres: bindings live at each minute, registrations and
// ends per minute (by reason), and the live bindings' user agents. A binding's life is a
// segment [first registered, ended): ended segments are in registration_history, the current
// ones in registrations (ended_at IS NULL; one past its expiry that the sweeper has not ended
// yet counts until its expiry). Each counts the bindings of a set of accounts: the chosen one
// and its sub-accounts (the caller resolves the tree, as for every other account-scoped read).
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface LivePoint {
  /** Unix seconds of a minute boundary. */
  t: number;
  /** Bindings live at that instant. */
  live: number;
}

export interface ActivityPoint {
  /** Unix seconds of the minute's start. */
  t: number;
  registered: number;
  unregistered: number;
  expired: number;
  flushed: number;
  replaced: number;
}

// The first minute boundary at or after x.
const CEIL_MINUTE = (x: string) =>
  `(date_trunc('minute', ${x}) + CASE WHEN ${x} > date_trunc('minute', ${x}) THEN interval '1 minute' ELSE interval '0' END)`;

const SEGMENTS = `
  segs AS (
    SELECT h.first_registered_at AS s, h.ended_at AS e
      FROM registration_history h, bounds b
     WHERE h.account_id = ANY($1::text[]) AND h.ended_at > b.t0
    UNION ALL
    SELECT r.first_registered_at, CASE WHEN r.expires_at <= now() THEN r.expires_at END
      FROM registrations r
     WHERE r.account_id = ANY($1::text[]) AND r.ended_at IS NULL
  )`;

@Injectable()
export class ConsoleStatsQueries {
  constructor(private readonly ds: DataSource) {}

  /**
   * Bindings live at each of the last `minutes` minute boundaries (the newest is the current
   * minute's start): a binding counts at t when it started at or before t and had not ended.
   * Each segment adds +1 at the first boundary at or after its start and -1 at the first at or
   * after its end (both clamped to the window's first point): a running sum, not a count per point.
   */
  async liveSeries(accountIds: string[], minutes: number): Promise<LivePoint[]> {
    const rows: { t: string; live: string }[] = await this.ds.query(
      `WITH bounds AS (
         SELECT date_trunc('minute', now()) - ($2::int - 1) * interval '1 minute' AS t0,
                date_trunc('minute', now()) AS t1
       ), ${SEGMENTS},
       deltas AS (
         SELECT greatest(${CEIL_MINUTE('s')}, b.t0) AS m, 1 AS d FROM segs, bounds b
         UNION ALL
         SELECT greatest(${CEIL_MINUTE('e')}, b.t0), -1 FROM segs, bounds b WHERE e IS NOT NULL
       ),
       agg AS (SELECT m, sum(d) AS d FROM deltas GROUP BY m),
       pts AS (SELECT generate_series(b.t0, b.t1, interval '1 minute') AS t FROM bounds b)
       SELECT extract(epoch FROM pts.t)::bigint AS t,
              sum(coalesce(agg.d, 0)) OVER (ORDER BY pts.t) AS live
         FROM pts LEFT JOIN agg ON agg.m = pts.t
        ORDER BY pts.t`,
      [accountIds, minutes],
    );
    return rows.map((r) => ({ t: Number(r.t), live: Number(r.live) }));
  }

  /** Registrations (segments started) and ends by reason, per minute, for minutes that had any. */
  async activity(accountIds: string[], minutes: number): Promise<ActivityPoint[]> {
    const rows: Record<string, string>[] = await this.ds.query(
      `WITH bounds AS (
         SELECT date_trunc('minute', now()) - ($2::int - 1) * interval '1 minute' AS t0
       ), ${SEGMENTS},
       starts AS (
         SELECT date_trunc('minute', s) AS m, count(*) AS n FROM segs, bounds b
          WHERE s >= b.t0 GROUP BY 1
       ),
       ends AS (
         SELECT date_trunc('minute', h.ended_at) AS m,
                count(*) FILTER (WHERE h.end_reason = 'unregistered') AS unregistered,
                count(*) FILTER (WHERE h.end_reason = 'expired') AS expired,
                count(*) FILTER (WHERE h.end_reason = 'flushed') AS flushed,
                count(*) FILTER (WHERE h.end_reason = 'replaced') AS replaced
           FROM registration_history h, bounds b
          WHERE h.account_id = ANY($1::text[]) AND h.ended_at >= b.t0
          GROUP BY 1
       )
       SELECT extract(epoch FROM coalesce(s.m, e.m))::bigint AS t,
              coalesce(s.n, 0) AS registered,
              coalesce(e.unregistered, 0) AS unregistered, coalesce(e.expired, 0) AS expired,
              coalesce(e.flushed, 0) AS flushed, coalesce(e.replaced, 0) AS replaced
         FROM starts s FULL JOIN ends e ON e.m = s.m
        ORDER BY 1`,
      [accountIds, minutes],
    );
    return rows.map((r) => ({
      t: Number(r.t),
      registered: Number(r.registered),
      unregistered: Number(r.unregistered),
      expired: Number(r.expired),
      flushed: Number(r.flushed),
      replaced: Number(r.replaced),
    }));
  }

  /** The live bindings' user agents, most common first (at most `limit`), and the total. */
  async userAgents(
    accountIds: string[],
    limit: number,
  ): Promise<{ total: number; agents: { userAgent: string | null; count: number }[] }> {
    const rows: { user_agent: string | null; n: string; total: string }[] = await this.ds.query(
      `SELECT user_agent, count(*) AS n, sum(count(*)) OVER () AS total
         FROM registrations
        WHERE account_id = ANY($1::text[]) AND ended_at IS NULL AND expires_at > now()
        GROUP BY user_agent
        ORDER BY n DESC, user_agent NULLS LAST
        LIMIT $2`,
      [accountIds, limit],
    );
    // The window sum is taken over every group, before LIMIT.
    const total = rows.length ? Number(rows[0].total) : 0;
    return { total, agents: rows.map((r) => ({ userAgent: r.user_agent, count: Number(r.n) })) };
  }
}
