// Time conversions between the formats the three APIs and two proxies use.

/** Seconds between 0000-01-01 (Erlang's Gregorian calendar) and 1970-01-01. */
export const GREGORIAN_OFFSET_S = 62167219200;

export function unixToGregorian(unixSeconds: number): number {
  return Math.floor(unixSeconds) + GREGORIAN_OFFSET_S;
}

/** The earliest event time taken as real: 2000-01-01 (anything before is a unit or clock error). */
const EARLIEST_EVENT_US = 946_684_800 * 1e6;
/** How far ahead of this host's clock a proxy's event may be stamped (clock skew). */
export const MAX_EVENT_AHEAD_US = 24 * 3600 * 1e6;

/**
 * Why an event time cannot be right, or undefined when it is plausible. An event stamped far in
 * the future would make every later event of its binding look stale: better dead-lettered (with
 * this reason) than stored.
 */
export function implausibleEventTime(
  eventUs: number,
  nowUs = Date.now() * 1000,
): string | undefined {
  if (!Number.isFinite(eventUs) || eventUs < EARLIEST_EVENT_US)
    return 'before the year 2000 (wrong unit?)';
  if (eventUs > nowUs + MAX_EVENT_AHEAD_US)
    return `more than ${MAX_EVENT_AHEAD_US / 3600e6} h ahead of this host's clock`;
  return undefined;
}

/**
 * The largest Expires stored (the `expires` column is an int). SIP allows up to 2^32 − 1 s
 * (RFC 3261 §20.19), but no registrar grants 68 years: more is taken for garbage.
 */
export const MAX_EXPIRES_S = 2_147_483_647;
