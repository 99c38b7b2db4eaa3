// Deriving a phone's MAC address. Desk phones (Yealink, Polycom, Snom, Grandstream…) put it in
// the RFC 5626 instance id as urn:uuid:00000000-0000-1000-8000-<MAC>; some also print it in
// their User-Agent. A MAC is stored as 12 lower-case hex digits.

const INSTANCE_MAC = /^<?urn:uuid:00000000-0000-1000-8000-([0-9a-f]{12})>?$/i;
const SEPARATED = /(?:^|[^0-9a-f])((?:[0-9a-f]{2}[:-]){5}[0-9a-f]{2})(?![0-9a-f])/i;
const PARENTHESISED = /\(([0-9a-f]{12})\)/i;
// A bare 12-hex token counts only with a letter in it: 12 digits alone is as likely a number.
const BARE_TOKEN = /(?:^|\s)((?=[0-9]*[a-f])[0-9a-f]{12})(?:\s|$)/i;

/** Normalises any spelling (any case, `:`/`-`/`.` separators) to 12 lower-case hex, or undefined. */
export function normaliseMac(input: string): string | undefined {
  const hex = input.replace(/[:\-.\s]/g, '').toLowerCase();
  return /^[0-9a-f]{12}$/.test(hex) ? hex : undefined;
}

export function macFromInstance(sipInstance: string | undefined): string | undefined {
  if (!sipInstance) return undefined;
  const m = INSTANCE_MAC.exec(sipInstance.trim());
  return m ? m[1].toLowerCase() : undefined;
}

export function macFromUserAgent(userAgent: string | undefined): string | undefined {
  if (!userAgent) return undefined;
  const m =
    SEPARATED.exec(userAgent) ?? PARENTHESISED.exec(userAgent) ?? BARE_TOKEN.exec(userAgent);
  return m ? normaliseMac(m[1]) : undefined;
}

export function deriveMac(sipInstance?: string, userAgent?: string): string | undefined {
  return macFromInstance(sipInstance) ?? macFromUserAgent(userAgent);
}
