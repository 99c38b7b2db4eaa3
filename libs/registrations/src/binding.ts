// A binding: one contact of one AOR (realm, username, contact URI), as the store keeps it.
// Live while it has no end reason and its expiry lies ahead; once ended, the row stays for a
// while as a tombstone so that a late (redelivered or reordered) event cannot resurrect it.
import type { EndReason, RegistrationEvent } from './registration-event';

export type BindingFacts = Omit<
  RegistrationEvent,
  'kind' | 'msgId' | 'eventUs' | 'account' | 'expires'
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
  lastMsgId?: string;
  firstRegisteredUs: number;
  lastRegisteredUs: number;
  expiresUs: number;
  refreshCount: number;
  endedUs?: number;
  endReason?: EndReason;
}

export function bindingKey(b: Pick<Binding, 'realmKey' | 'usernameKey' | 'contactUri'>): string {
  return `${b.realmKey}\u0000${b.usernameKey}\u0000${b.contactUri}`;
}

export function aorCallKey(realmKey: string, usernameKey: string, callId: string): string {
  return `${realmKey}\u0000${usernameKey}\u0000${callId}`;
}

/** Live at `atUs`: not ended and not past last refresh + Expires. */
export function isLive(b: Binding, atUs: number): boolean {
  return b.endReason === undefined && b.expiresUs > atUs;
}
