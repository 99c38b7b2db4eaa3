// A binding: one contact of one AOR (realm, username, contact URI), as the store keeps it.
// Live while it has no end reason and its expiry lies ahead; once ended, the row stays for a
// while as a tombstone so that a late (redelivered or reordered) event cannot resurrect it.
import type { EndReason, RegistrationEvent } from './registration-event';

export type BindingFacts = Omit<
  RegistrationEvent,
  'kind' | 'msgId' | 'eventUs' | 'clockSlackUs' | 'account' | 'expires'
>;

export interface Binding extends BindingFacts {
  /** Database id; stable for the binding's key (registration_id). Undefined until stored. */
  id?: number;
  realmKey: string;
  usernameKey: string;
  accountId?: string;
  expires: number;
  /** Time of the last event applied: the guard against stale events. */
  eventUs: number;
  /**
   * Msg-IDs of the latest events applied to this binding, newest first, space-separated
   * (RECENT_MSG_IDS at most): a redelivered event is recognised even behind a newer one of the
   * same second (Kamailio stamps whole seconds).
   */
  recentMsgIds?: string;
  firstRegisteredUs: number;
  lastRegisteredUs: number;
  expiresUs: number;
  refreshCount: number;
  endedUs?: number;
  endReason?: EndReason;
}

/** Every field present (undefined where unknown): the compiler checks the lists below are whole. */
type Whole<T> = { [K in keyof Required<T>]: T[K] };

/** The state an event starts: its facts, with the binding's own fields to fill in. */
export function bindingFromEvent(
  e: RegistrationEvent,
  realmKey: string,
  usernameKey: string,
): Binding {
  // One object literal listing every field, in one order: all bindings share one hidden class,
  // so that building, copying and serialising thousands per batch stays cheap (a spread of the
  // event's varying optional fields made every binding a different shape; bench/ingest).
  const b: Whole<Binding> = {
    id: undefined,
    realmKey,
    usernameKey,
    accountId: undefined,
    origin: e.origin,
    realm: e.realm,
    username: e.username,
    originalContact: e.originalContact,
    contactUri: e.contactUri,
    contactIp: e.contactIp,
    contactPort: e.contactPort,
    callId: e.callId,
    userAgent: e.userAgent,
    expires: e.expires,
    eventUs: e.eventUs,
    recentMsgIds: withApplied(undefined, e.msgId),
    firstRegisteredUs: e.eventUs,
    lastRegisteredUs: e.eventUs,
    expiresUs: e.eventUs + (e.clockSlackUs ?? 0) + e.expires * 1_000_000,
    refreshCount: 0,
    endedUs: undefined,
    endReason: undefined,
    sourceIp: e.sourceIp,
    sourcePort: e.sourcePort,
    networkIp: e.networkIp,
    networkPort: e.networkPort,
    proxyPath: e.proxyPath,
    proxyIp: e.proxyIp,
    proxyPort: e.proxyPort,
    proxyProtocol: e.proxyProtocol,
    registrarNode: e.registrarNode,
    fromUser: e.fromUser,
    fromHost: e.fromHost,
    toUser: e.toUser,
    toHost: e.toHost,
    authorizingId: e.authorizingId,
    authorizingType: e.authorizingType,
    ownerId: e.ownerId,
    suppressUnregisterNotify: e.suppressUnregisterNotify,
    sipInstance: e.sipInstance,
    mac: e.mac,
    fsProfile: e.fsProfile,
    fsHostname: e.fsHostname,
  };
  return b;
}

/** A copy with the shape of bindingFromEvent's. */
export function copyBinding(b: Binding): Binding {
  const c: Whole<Binding> = {
    id: b.id,
    realmKey: b.realmKey,
    usernameKey: b.usernameKey,
    accountId: b.accountId,
    origin: b.origin,
    realm: b.realm,
    username: b.username,
    originalContact: b.originalContact,
    contactUri: b.contactUri,
    contactIp: b.contactIp,
    contactPort: b.contactPort,
    callId: b.callId,
    userAgent: b.userAgent,
    expires: b.expires,
    eventUs: b.eventUs,
    recentMsgIds: b.recentMsgIds,
    firstRegisteredUs: b.firstRegisteredUs,
    lastRegisteredUs: b.lastRegisteredUs,
    expiresUs: b.expiresUs,
    refreshCount: b.refreshCount,
    endedUs: b.endedUs,
    endReason: b.endReason,
    sourceIp: b.sourceIp,
    sourcePort: b.sourcePort,
    networkIp: b.networkIp,
    networkPort: b.networkPort,
    proxyPath: b.proxyPath,
    proxyIp: b.proxyIp,
    proxyPort: b.proxyPort,
    proxyProtocol: b.proxyProtocol,
    registrarNode: b.registrarNode,
    fromUser: b.fromUser,
    fromHost: b.fromHost,
    toUser: b.toUser,
    toHost: b.toHost,
    authorizingId: b.authorizingId,
    authorizingType: b.authorizingType,
    ownerId: b.ownerId,
    suppressUnregisterNotify: b.suppressUnregisterNotify,
    sipInstance: b.sipInstance,
    mac: b.mac,
    fsProfile: b.fsProfile,
    fsHostname: b.fsHostname,
  };
  return c;
}

export function bindingKey(b: Pick<Binding, 'realmKey' | 'usernameKey' | 'contactUri'>): string {
  return `${b.realmKey}\u0000${b.usernameKey}\u0000${b.contactUri}`;
}

export function aorKey(realmKey: string, usernameKey: string): string {
  return `${realmKey}\u0000${usernameKey}`;
}

export function aorCallKey(realmKey: string, usernameKey: string, callId: string): string {
  return `${realmKey}\u0000${usernameKey}\u0000${callId}`;
}

/** Live at `atUs`: not ended and not past last refresh + Expires. */
export function isLive(b: Binding, atUs: number): boolean {
  return b.endReason === undefined && b.expiresUs > atUs;
}

/** How many Msg-IDs a binding remembers (a redelivered tail rarely holds more of one binding). */
export const RECENT_MSG_IDS = 4;

/** Whether this binding has already applied the event with this Msg-ID (runs per event). */
export function hasApplied(b: Pick<Binding, 'recentMsgIds'>, msgId: string | undefined): boolean {
  const r = b.recentMsgIds;
  if (msgId === undefined || msgId === '' || !r) return false;
  const id = storedMsgId(msgId);
  for (let i = r.indexOf(id); i >= 0; i = r.indexOf(id, i + 1)) {
    const end = i + id.length;
    if (
      (i === 0 || r.charCodeAt(i - 1) === SPACE) &&
      (end === r.length || r.charCodeAt(end) === SPACE)
    )
      return true;
  }
  return false;
}

/** The binding's recent Msg-IDs after applying one more event (runs per event). */
export function withApplied(
  recent: string | undefined,
  msgId: string | undefined,
): string | undefined {
  if (msgId === undefined || msgId === '') return recent;
  const id = storedMsgId(msgId);
  if (!recent) return id;
  // Keep the newest RECENT_MSG_IDS - 1 of the others.
  for (let i = 0, n = 0; i < recent.length; i++) {
    if (recent.charCodeAt(i) === SPACE && ++n === RECENT_MSG_IDS - 1)
      return `${id} ${recent.slice(0, i)}`;
  }
  return `${id} ${recent}`;
}

const SPACE = 32;

/** Spaces separate the stored ids: one inside an id is stored (and looked up) as `_`. */
function storedMsgId(msgId: string): string {
  return msgId.includes(' ') ? msgId.replace(/ /g, '_') : msgId;
}
