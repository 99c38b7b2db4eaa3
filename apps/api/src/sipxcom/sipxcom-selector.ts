// The path and query parameters of sipXcom's registrations API, validated: which bindings a
// request selects (user, MAC, IP, Call-ID, server) and its start/limit page.
import { isIP } from 'node:net';
import { normaliseMac } from '@app/registrations';
import { ApiError } from '../common/api-error';

export type SipxcomSelector =
  | { kind: 'all' }
  | { kind: 'user'; userId: string }
  | { kind: 'mac'; mac: string }
  | { kind: 'address'; address: string }
  | { kind: 'callId'; callId: string }
  | { kind: 'server'; server: string };

export interface SipxcomPage {
  offset: number;
  limit?: number;
}

export function selectUser(userId: string): SipxcomSelector {
  return { kind: 'user', userId: nonEmpty('userId', userId) };
}

/** A MAC in any case, with or without `:`/`-`/`.` separators. */
export function selectSerialNo(serialId: string): SipxcomSelector {
  const mac = normaliseMac(serialId);
  if (!mac)
    throw ApiError.badRequest(
      `serialNo must be a MAC address (12 hex digits, optionally separated by : or -): ${serialId}`,
    );
  return { kind: 'mac', mac };
}

/** An IPv4 or IPv6 address (IPv6 optionally in brackets). */
export function selectIp(ip: string): SipxcomSelector {
  const address = ip.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) === 0) throw ApiError.badRequest(`ip must be an IPv4 or IPv6 address: ${ip}`);
  return { kind: 'address', address };
}

export function selectCallId(callId: string): SipxcomSelector {
  return { kind: 'callId', callId: nonEmpty('callId', callId) };
}

/**
 * A server by sipXconfig location id (RegistrationApiImpl.getLocationByIdOrFqdn: an integer is
 * an id, looked up in `locations`, from SIPXCOM_LOCATIONS), else by name or address.
 */
export function selectServer(
  serverId: string,
  locations: ReadonlyMap<number, string> = new Map(),
): SipxcomSelector {
  const id = nonEmpty('serverId', serverId.trim());
  if (!/^\d{1,9}$/.test(id)) return { kind: 'server', server: id };
  const host = locations.get(Number(id));
  if (!host) throw ApiError.notFound('Server not found');
  return { kind: 'server', server: host };
}

/** SIPXCOM_LOCATIONS ("1=px1.example.net,2=10.0.0.2") as a map. */
export function parseLocations(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const pair of text.split(',')) {
    const [id, host] = pair.split('=').map((s) => s.trim());
    if (id && host) out.set(Number(id), host);
  }
  return out;
}

/**
 * sipXconfig pages only when both `start` and `limit` are given (RegistrationApiImpl
 * getRegistrations / getRegistrationsByUser), newest expiry first (RegistrationContextImpl:
 * sort expirationTime -1, skip start, limit count); with one of them alone, every row.
 * `limit=0` is MongoDB's "no limit".
 */
export function pageOf(query: Record<string, unknown>): SipxcomPage | undefined {
  const int = (name: string): number | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^\d{1,9}$/.test(v))
      throw ApiError.badRequest(`${name} must be an integer of at least 0, given once`);
    return Number(v);
  };
  const start = int('start');
  const limit = int('limit');
  if (start === undefined || limit === undefined) return undefined;
  return { offset: start, limit: limit === 0 ? undefined : limit };
}

function nonEmpty(name: string, v: string): string {
  if (!v) throw ApiError.badRequest(`${name} must not be empty`);
  return v;
}
