// Query parameters of GET /v2/accounts/{id}/registrations/history: username, contact_ip,
// reason, created_from/created_to (when a segment ended: Gregorian seconds as elsewhere in
// Kazoo, Unix seconds or ISO-8601 also accepted), page_size (default 50) and start_key.
// Bad input is a 400 in Kazoo's validation format.
import { GREGORIAN_OFFSET_S } from '@app/registrations';
import type { HistoryQuery } from '@app/persistence';
import { MAX_PAGE_SIZE } from '../kazoo/list-query';
import { ApiError } from '../common/api-error';

export const DEFAULT_HISTORY_PAGE_SIZE = 50;
export const END_REASONS = ['unregistered', 'expired', 'flushed', 'replaced', 'reconciled'];

export function encodeHistoryStartKey(row: { endedAtText: string; historyId: string }): string {
  return Buffer.from(JSON.stringify([row.endedAtText, row.historyId])).toString('base64url');
}

const STARTKEY_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** Times a query may name: from the Unix epoch to the end of year 9999 (Postgres holds more). */
const MAX_UNIX_S = 253402300799;

function decodeStartKey(s: string): [string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    // Exactly what encodeHistoryStartKey writes: a real UTC time to the microsecond (checked by
    // round trip, so 2024-02-31 is refused here and not by Postgres) and a history id.
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      typeof v[0] === 'string' &&
      STARTKEY_TIME.test(v[0]) &&
      !Number.isNaN(Date.parse(v[0])) &&
      new Date(Date.parse(v[0])).toISOString().slice(0, 19) === v[0].slice(0, 19) &&
      typeof v[1] === 'string' &&
      /^\d{1,18}$/.test(v[1])
    )
      return [v[0], v[1]];
  } catch {
    // falls through to the 400
  }
  throw ApiError.invalidInput(
    'start_key',
    'format',
    'start_key is not a value this API returned as next_start_key',
  );
}

/** Unix seconds of a time given as Gregorian seconds, Unix seconds or ISO-8601. */
function unixSecondsOf(name: string, v: string): number {
  let s: number;
  if (/^\d+(\.\d+)?$/.test(v)) {
    const n = Number(v);
    s = n >= GREGORIAN_OFFSET_S ? n - GREGORIAN_OFFSET_S : n;
  } else {
    const ms = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
    if (Number.isNaN(ms))
      throw ApiError.invalidInput(
        name,
        'format',
        `${name} must be Gregorian seconds (as Kazoo's timestamps), Unix seconds or ISO-8601`,
      );
    s = ms / 1000;
  }
  if (!(s >= 0 && s <= MAX_UNIX_S))
    throw ApiError.invalidInput(
      name,
      'range',
      `${name} must be a time from 1970-01-01 to 9999-12-31 (Gregorian ${GREGORIAN_OFFSET_S} to ${GREGORIAN_OFFSET_S + MAX_UNIX_S})`,
    );
  return s;
}

export function parseHistoryQuery(accountId: string, query: Record<string, unknown>): HistoryQuery {
  const one = (name: string) => {
    const v = query[name];
    if (Array.isArray(v)) throw ApiError.invalidInput(name, 'type', `${name} may be given once`);
    if (v === '') throw ApiError.invalidInput(name, 'minLength', `${name} must not be empty`);
    return v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
  };
  const q: HistoryQuery = { accountId, limit: DEFAULT_HISTORY_PAGE_SIZE };
  const pageSize = one('page_size');
  if (pageSize !== undefined) {
    if (!/^\d+$/.test(pageSize) || Number(pageSize) < 1 || Number(pageSize) > MAX_PAGE_SIZE)
      throw ApiError.invalidInput(
        'page_size',
        'range',
        `page_size must be an integer from 1 to ${MAX_PAGE_SIZE}`,
      );
    q.limit = Number(pageSize);
  }
  const startKey = one('start_key');
  if (startKey !== undefined) q.after = decodeStartKey(startKey);
  q.username = one('username');
  q.contactIp = one('contact_ip');
  q.reason = one('reason');
  if (q.reason !== undefined && !END_REASONS.includes(q.reason))
    throw ApiError.invalidInput(
      'reason',
      'enum',
      `reason must be one of ${END_REASONS.join(', ')}`,
    );
  const from = one('created_from');
  const to = one('created_to');
  if (from !== undefined) q.endedFromS = unixSecondsOf('created_from', from);
  if (to !== undefined) q.endedToS = unixSecondsOf('created_to', to);
  if (q.endedFromS !== undefined && q.endedToS !== undefined && q.endedFromS > q.endedToS)
    throw ApiError.invalidInput(
      'created_to',
      'minimum',
      'created_to must not be before created_from',
    );
  return q;
}
