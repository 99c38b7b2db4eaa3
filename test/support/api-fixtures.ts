// Registrations for the API tests: Kamailio reg_success messages (from the real capture, see
// messages.ts) with fields set or removed, and waiting until the ingest app stored them.
import type { Pool } from 'pg';
import type { Outgoing } from './amqp';
import { kazoo, KazooOpts } from './messages';
import { eventually } from './poll';

export interface BindingOpts extends KazooOpts {
  /** Top-level keys to set on the message. */
  set?: Record<string, unknown>;
  /** Top-level keys to remove from the message. */
  unset?: string[];
  /** Custom-Channel-Vars keys to set (undefined removes). */
  ccv?: Record<string, unknown>;
}

export function kazooBinding(o: BindingOpts): Outgoing {
  const m = kazoo(o);
  const body = m.body as Record<string, unknown>;
  for (const [k, v] of Object.entries(o.set ?? {})) body[k] = v;
  for (const k of o.unset ?? []) delete body[k];
  if (o.ccv) {
    const ccv = { ...(body['Custom-Channel-Vars'] as Record<string, unknown>) };
    for (const [k, v] of Object.entries(o.ccv)) {
      if (v === undefined) delete ccv[k];
      else ccv[k] = v;
    }
    body['Custom-Channel-Vars'] = ccv;
  }
  return m;
}

export async function liveCount(pool: Pool, accountId?: string): Promise<number> {
  const { rows } = await pool.query(
    `SELECT count(*)::int AS n FROM registrations
      WHERE ended_at IS NULL AND expires_at > now() AND ($1::text IS NULL OR account_id = $1)`,
    [accountId ?? null],
  );
  return rows[0].n as number;
}

/** Waits until the account holds exactly `n` live bindings. */
export async function waitForLive(pool: Pool, accountId: string, n: number): Promise<void> {
  await eventually(
    () => liveCount(pool, accountId),
    (c) => c === n,
    { what: `${n} live bindings of account ${accountId}` },
  );
}

export async function historyOf(
  pool: Pool,
  accountId: string,
): Promise<{ username: string; realm: string; contact_uri: string; end_reason: string }[]> {
  const { rows } = await pool.query(
    `SELECT username, realm, contact_uri, end_reason FROM registration_history
      WHERE account_id = $1 ORDER BY id`,
    [accountId],
  );
  return rows;
}
