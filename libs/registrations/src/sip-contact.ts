// Parsing a Contact header value as proxies report it:
//   <sip:1001@10.0.0.5:5062;transport=tcp>;expires=600;+sip.instance="<urn:uuid:…>";reg-id=1
//   "Alice" <sips:alice@[2001:db8::1]:5061>
//   sip:1001@10.0.0.5:5060;transport=udp          (no angle brackets)
// The URI (inside <>) identifies the binding; header parameters (expires, q, +sip.instance…)
// describe it and change between refreshes, so they are not part of the key.

export interface ParsedContact {
  /** The URI without `<>` and without header parameters. */
  uri: string;
  scheme: string;
  user?: string;
  /** Host as written, IPv6 without brackets. */
  host: string;
  /** Port from the URI, or the default for the scheme/transport (5061 for TLS, else 5060). */
  port: number;
  transport?: string;
  sipInstance?: string;
  regId?: string;
}

const HEADER_ONLY_PARAMS = new Set(['expires', 'q', '+sip.instance', 'reg-id', 'methods']);

function splitParams(s: string): string[] {
  // Split on ';' outside double quotes (+sip.instance values are quoted and contain ':' and '<>').
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/** First index of `ch` outside double quotes: a quoted +sip.instance or display name may hold '<'. */
function indexOutsideQuotes(s: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '"') quoted = !quoted;
    else if (s[i] === ch && !quoted) return i;
  }
  return -1;
}

function paramValue(params: string[], name: string): string | undefined {
  for (const p of params) {
    const eq = p.indexOf('=');
    const key = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (key === name)
      return eq < 0
        ? ''
        : p
            .slice(eq + 1)
            .trim()
            .replace(/^"|"$/g, '');
  }
  return undefined;
}

/** Returns undefined when the value holds no recognisable sip/sips/tel URI. */
export function parseContact(raw: string): ParsedContact | undefined {
  const value = raw.trim();
  if (!value) return undefined;
  let uri: string;
  let headerParams: string[];
  const lt = indexOutsideQuotes(value, '<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    if (gt < 0) return undefined;
    uri = value.slice(lt + 1, gt).trim();
    headerParams = splitParams(value.slice(gt + 1)).slice(1);
  } else {
    // Without <>, RFC 3261 reads every ';' parameter as a header parameter; proxies nonetheless
    // report URI parameters (transport…) this way, so keep all but the known header ones.
    const parts = splitParams(value);
    headerParams = parts
      .slice(1)
      .filter((p) => HEADER_ONLY_PARAMS.has(p.split('=')[0].trim().toLowerCase()));
    const uriParams = parts
      .slice(1)
      .filter((p) => !HEADER_ONLY_PARAMS.has(p.split('=')[0].trim().toLowerCase()));
    uri = [parts[0].trim(), ...uriParams].join(';');
  }
  const m = /^(sips?|tel):(?:([^@]*)@)?(\[[0-9a-fA-F:.]+\]|[^:;?>]+)(?::(\d{1,5}))?(.*)$/i.exec(
    uri,
  );
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  const host = m[3].replace(/^\[|\]$/g, '');
  const uriParams = splitParams(m[5] ?? '').slice(1);
  const transport = paramValue(uriParams, 'transport')?.toLowerCase();
  const explicitPort = m[4] ? Number(m[4]) : 0;
  const secure = scheme === 'sips' || transport === 'tls';
  return {
    uri,
    scheme,
    user: m[2] || undefined,
    host,
    port: explicitPort > 0 ? explicitPort : secure ? 5061 : 5060,
    transport,
    sipInstance:
      paramValue(headerParams, '+sip.instance') ?? paramValue(uriParams, '+sip.instance'),
    regId: paramValue(headerParams, 'reg-id'),
  };
}

/** `contact` as Kazoo lists it: the original contact with `<` and `>` removed. */
export function kazooContact(originalContact: string): string {
  return originalContact.replace(/[<>]/g, '');
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
export function isIpAddress(host: string): boolean {
  return IPV4.test(host) || (host.includes(':') && /^[0-9a-f:.]+$/i.test(host));
}

/** `address:port`, with IPv6 addresses in brackets. */
export function hostPort(host: string | undefined, port: number | undefined): string | undefined {
  if (!host) return undefined;
  const h = host.includes(':') ? `[${host}]` : host;
  return port ? `${h}:${port}` : h;
}
