// The one domain event both proxy formats are normalised into. Everything downstream (store,
// planning, change feed) speaks this type and never the wire formats.

export type EventKind = 'register' | 'refresh' | 'unregister' | 'expire';
export type EventOrigin = 'kazoo' | 'freeswitch';
export type EndReason = 'unregistered' | 'expired' | 'flushed' | 'replaced' | 'reconciled';

export interface AccountRef {
  id: string;
  name?: string;
  realm?: string;
}

/** A register/refresh/unregister/expire of one binding (realm, username, contact). */
export interface RegistrationEvent {
  kind: EventKind;
  origin: EventOrigin;
  /** Msg-ID (Kazoo) or Core-UUID:Event-Sequence (FreeSWITCH): recognises redeliveries. */
  msgId?: string;
  realm: string;
  username: string;
  /** The Contact header value exactly as the proxy sent it. */
  originalContact: string;
  /** The contact URI without `<>` and header parameters: part of the binding key. */
  contactUri: string;
  contactIp?: string;
  contactPort?: number;
  callId?: string;
  /** Seconds granted; 0 for unregister and expire. */
  expires: number;
  /** Event time in microseconds since the Unix epoch (Kazoo sends seconds, FreeSWITCH µs). */
  eventUs: number;
  /**
   * How much later than eventUs the event may really have happened, when the proxy stamps it
   * coarsely (Kamailio: whole seconds, so up to 999,999 µs). Expiry counts from the latest
   * possible time: a binding must never expire before the proxy expires it.
   */
  clockSlackUs?: number;
  userAgent?: string;
  sourceIp?: string;
  sourcePort?: number;
  networkIp?: string;
  networkPort?: number;
  proxyPath?: string;
  proxyIp?: string;
  proxyPort?: number;
  proxyProtocol?: string;
  registrarNode?: string;
  fromUser?: string;
  fromHost?: string;
  toUser?: string;
  toHost?: string;
  account?: AccountRef;
  authorizingId?: string;
  authorizingType?: string;
  ownerId?: string;
  suppressUnregisterNotify?: boolean;
  sipInstance?: string;
  mac?: string;
  /** FreeSWITCH only: the sofia profile and switch that hold the binding (for flush commands). */
  fsProfile?: string;
  fsHostname?: string;
}

/**
 * A `reg_flush` issued by another system: ends every binding of a realm, or of one AOR, or (our
 * extension, docs/sipxcom-compatibility.md) only the AOR's bindings with that Call-ID, else
 * that contact URI.
 */
export interface FlushCommand {
  kind: 'flush';
  realm: string;
  username?: string;
  /** `Call-ID` (only with a username): only the AOR's bindings with this Call-ID end. */
  callId?: string;
  /** `Contact` (only with a username, when no Call-ID): only bindings with this contact URI. */
  contactUri?: string;
  /** Msg-ID: a flush delivered again after it was applied is recognised by it (and skipped). */
  msgId?: string;
  /** Set when this service published the flush itself (already applied at the API). */
  ours: boolean;
}

export type ProxyEvent = RegistrationEvent | FlushCommand;

export function isFlush(e: ProxyEvent): e is FlushCommand {
  return e.kind === 'flush';
}
