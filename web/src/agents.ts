// User-Agent strings as the charts show them: a phone's model and its firmware version.

/** A phone's model and firmware from its User-Agent ("Yealink SIP-T46S 66.86.0.15"). */
export function splitAgent(ua: string | null): { model: string; firmware: string } {
  if (!ua) return { model: '(none)', firmware: '' };
  const m = /^(.*?)[\s/]+v?(\d+(?:\.\w+)+)\b(.*)$/.exec(ua);
  return m ? { model: m[1].trim() || ua, firmware: m[2] } : { model: ua, firmware: '' };
}
