// The path and query parameters of sipXcom's registrations API, validated: which bindings a
// request selects (user, MAC, IP, Call-ID, server) and its start/limit page.
import { isIP } from 'node:net';
import { normaliseMac } from '@app/registrations';
import { DialectError } from './dialect-error';

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
    throw DialectError.badRequest(
      `serialNo must be a MAC address (12 hex digits, optionally separated by : or -): ${serialId}`,
    );
  return { kind: 'mac', mac };
}

/** An IPv4 or IPv6 address (IPv6 optionally in brackets). */
export function selectIp(ip: string): SipxcomSelector {
  const address = ip.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(address) === 0)
    throw DialectError.badRequest(`ip must be an IPv4 or IPv6 address: ${ip}`);
  return { kind: 'address', address };
}

export function selectCallId(callId: string): SipxcomSelector {
  return { kind: 'callId', callId: nonEmpty('callId', callId) };
}

export function selectServer(serverId: string): SipxcomSelector {
  return { kind: 'server', server: nonEmpty('serverId', serverId.trim()) };
}

/** `start` (first row, 0-based, default 0) and `limit` (default: every row). */
export function pageOf(query: Record<string, unknown>): SipxcomPage {
  const int = (name: string, min: number): number | undefined => {
    const v = query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !/^\d{1,9}$/.test(v) || Number(v) < min)
      throw DialectError.badRequest(`${name} must be an integer of at least ${min}, given once`);
    return Number(v);
  };
  return { offset: int('start', 0) ?? 0, limit: int('limit', 1) };
}

function nonEmpty(name: string, v: string): string {
  if (!v) throw DialectError.badRequest(`${name} must not be empty`);
  return v;
}
