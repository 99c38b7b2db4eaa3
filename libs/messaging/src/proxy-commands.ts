// Commands this service sends back to the proxies (wire-formats.md §2–3): Kazoo reg_flush to
// Kamailio, check-sync NOTIFY requests, and FreeSWITCH flush_inbound_reg API commands.
import { randomUUID } from 'node:crypto';
import { OUR_APP_NAME } from '@app/registrations';
import { encodeSegment } from './routing-key.codec';

export interface OutboundCommand {
  exchange: string;
  routingKey: string;
  body: Buffer;
  contentType: string;
}

const APP_VERSION = '0.1.0';

function kazooHeaders(category: string, name: string) {
  return {
    'Event-Category': category,
    'Event-Name': name,
    'App-Name': OUR_APP_NAME,
    'App-Version': APP_VERSION,
    'Msg-ID': randomUUID(),
  };
}

/** One contact of an AOR, named in a reg_flush (our extension of Kazoo's message). */
export interface FlushedContact {
  callId?: string | null;
  contactUri?: string | null;
}

/**
 * Kazoo reg_flush: Realm only (no Username key at all) flushes the realm; with Username, one AOR.
 * With `contact`, also `Call-ID` and `Contact` (our extension, docs/sipxcom-compatibility.md): a
 * Kamailio whose reg_flush route reads them (test/kamailio) removes only that contact; Kazoo's
 * own route ignores unknown keys and flushes the whole AOR.
 */
export function regFlush(
  realm: string,
  username?: string,
  contact?: FlushedContact,
): OutboundCommand {
  const body: Record<string, string> = { ...kazooHeaders('directory', 'reg_flush'), Realm: realm };
  if (username !== undefined) body.Username = username;
  if (username !== undefined && contact?.callId) body['Call-ID'] = contact.callId;
  if (username !== undefined && contact?.contactUri) body.Contact = contact.contactUri;
  return {
    exchange: 'registrar',
    routingKey: `registration.flush.${encodeSegment(realm)}`,
    body: Buffer.from(JSON.stringify(body)),
    contentType: 'application/json',
  };
}

/** Kazoo's check-sync NOTIFY request: the phone re-registers at once. */
export function checkSync(realm: string, username: string): OutboundCommand {
  const body = {
    ...kazooHeaders('switch', 'notify'),
    Username: username,
    Realm: realm,
    Event: 'check-sync',
  };
  return {
    exchange: 'switch',
    routingKey: `switch.notify.${encodeSegment(realm)}.${encodeSegment(username)}`,
    body: Buffer.from(JSON.stringify(body)),
    contentType: 'application/json',
  };
}

/** FreeSWITCH mod_amqp API command: drops the inbound registrations of one user. */
export function freeswitchFlush(
  profile: string,
  username: string,
  realm: string,
  routingKey: string,
): OutboundCommand {
  return {
    exchange: 'TAP.Commands',
    routingKey,
    body: Buffer.from(`sofia profile ${profile} flush_inbound_reg ${username}@${realm}`),
    contentType: 'text/plain',
  };
}

/**
 * FreeSWITCH: drops one inbound registration by Call-ID (`sofia profile <p> flush_inbound_reg
 * <call-id>`). mod_sofia's sofia_reg_expire_call_id also matches sip_user@sip_host split from
 * the argument at its '@' (or sip_host alone without one): phones' Call-IDs never name a
 * user@domain that registered, so in practice only the one registration goes.
 */
export function freeswitchFlushCallId(
  profile: string,
  callId: string,
  routingKey: string,
): OutboundCommand {
  return {
    exchange: 'TAP.Commands',
    routingKey,
    body: Buffer.from(`sofia profile ${profile} flush_inbound_reg ${callId}`),
    contentType: 'text/plain',
  };
}
