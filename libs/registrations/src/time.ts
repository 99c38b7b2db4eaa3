// Time conversions between the formats the three APIs and two proxies use.

/** Seconds between 0000-01-01 (Erlang's Gregorian calendar) and 1970-01-01. */
export const GREGORIAN_OFFSET_S = 62167219200;

export function unixToGregorian(unixSeconds: number): number {
  return Math.floor(unixSeconds) + GREGORIAN_OFFSET_S;
}
