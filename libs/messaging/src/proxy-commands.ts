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

/** Kazoo reg_flush: Realm only (no Username key at all) flushes the realm; with Username, one AOR. */
export function regFlush(realm: string, username?: string): OutboundCommand {
  const body: Record<string, string> = { ...kazooHeaders('directory', 'reg_flush'), Realm: realm };
  if (username !== undefined) body.Username = username;
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
