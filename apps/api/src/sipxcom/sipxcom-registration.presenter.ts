// A binding as sipXcom's registrations API shows it (api-dialects.md B), as JSON
// `{"registrations": […]}` or XML `<Registrations><Registration>…`, built with fast-xml-parser.
import { XMLBuilder } from 'fast-xml-parser';
import type { DialectRow } from '@app/persistence';

export interface SipxcomRegistration {
  contact: string;
  /** Absolute Unix seconds of expiry (of the stop, for a stopped binding). */
  expires: number;
  identity: string;
  instrument: string;
  primary: string;
  regCallId: string;
  uri: string;
  secondsToExpire: number;
  status: 'active' | 'stopped';
}

const PROXY_PATH_HOST = /^[a-z]+:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>]+)/i;

/** The address of the server holding the binding: the proxy's address, else its name. */
function primaryOf(r: DialectRow): string {
  if (r.proxyIp) return r.proxyIp;
  const fromPath = r.proxyPath ? PROXY_PATH_HOST.exec(r.proxyPath)?.[1] : undefined;
  if (fromPath) return fromPath.replace(/^\[|\]$/g, '');
  return r.registrarNode?.split('@').pop() ?? '';
}

export function toSipxcomRegistration(r: DialectRow, nowS: number): SipxcomRegistration {
  const stopped = r.endedAtS !== null;
  const expires = Math.floor(r.endedAtS ?? r.expiresAtS);
  return {
    contact: r.originalContact,
    expires,
    identity: `${r.username}@${r.realm}`,
    instrument: r.mac ?? '',
    primary: primaryOf(r),
    regCallId: r.callId ?? '',
    uri: `sip:${r.username}@${r.realm}`,
    secondsToExpire: stopped ? 0 : Math.max(0, Math.floor(r.expiresAtS - nowS)),
    status: stopped ? 'stopped' : 'active',
  };
}

export function toSipxcomJson(items: SipxcomRegistration[]) {
  return { registrations: items };
}

// XML 1.0 cannot carry these characters even escaped; they become U+FFFD.
// eslint-disable-next-line no-control-regex -- the tab, LF and CR that XML allows are named on purpose
const NOT_XML_CHAR = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const builder = new XMLBuilder({ format: false, processEntities: true, suppressEmptyNode: true });

export function toSipxcomXml(items: SipxcomRegistration[]): string {
  const registrations = items.map((item) => {
    const element: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(item))
      element[key] = typeof value === 'string' ? value.replace(NOT_XML_CHAR, '\uFFFD') : value;
    return element;
  });
  const body = registrations.length
    ? builder.build({ Registrations: { Registration: registrations } })
    : builder.build({ Registrations: '' });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
}
