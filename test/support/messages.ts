// Proxy messages for tests: Kazoo ones start from the real Kamailio captures in
// test/fixtures/kamailio, FreeSWITCH ones follow wire-formats.md §3 (every value a string).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash, randomUUID } from 'node:crypto';
import { keys } from '@app/messaging';
import type { Outgoing } from './amqp';

const FIXTURES = path.resolve(__dirname, '../fixtures/kamailio');

export function fixture(name: 'register' | 'refresh' | 'unregister'): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `reg_success.${name}.json`), 'utf8'));
}

export interface KazooOpts {
  realm: string;
  username: string;
  contact?: string;
  callId?: string;
  expires?: number;
  ts: number;
  first?: boolean;
  accountId?: string | null;
  msgId?: string;
  userAgent?: string;
  extra?: Record<string, unknown>;
}

/** A reg_success like Kamailio's; Expires 0 makes it an unregister. */
export function kazoo(o: KazooOpts): Outgoing {
  const base = fixture('register');
  const expires = o.expires ?? 600;
  const body: Record<string, unknown> = {
    ...base,
    Realm: o.realm,
    Username: o.username,
    'From-User': o.username,
    'From-Host': o.realm,
    'To-User': o.username,
    'To-Host': o.realm,
    Contact: o.contact ?? `<sip:${o.username}@10.1.2.3:5060;transport=UDP>`,
    'Call-ID': o.callId ?? `${o.username}@${o.realm}`,
    Expires: expires,
    Status: expires === 0 ? 'Unregistered' : 'Registered',
    'First-Registration': o.first ?? true,
    'Event-Timestamp': o.ts,
    'Msg-ID': o.msgId ?? randomUUID(),
    'User-Agent': o.userAgent ?? base['User-Agent'],
    ...o.extra,
  };
  if (o.accountId === null) delete body['Custom-Channel-Vars'];
  else
    body['Custom-Channel-Vars'] = {
      ...(base['Custom-Channel-Vars'] as object),
      'Account-ID': o.accountId ?? accountIdOf(o.realm),
      'Account-Realm': o.realm,
      Realm: o.realm,
      Username: o.username,
    };
  return { exchange: 'registrar', routingKey: keys.regSuccess(o.realm, o.username), body };
}

/**
 * A reg_flush from another system. `callId` / `contact`: our extension naming one phone of the
 * user (libs/messaging regFlush). `msgId: null`: none at all.
 */
export function kazooFlush(
  realm: string,
  username?: string,
  o: { callId?: string; contact?: string; msgId?: string | null } = {},
): Outgoing {
  const body: Record<string, unknown> = {
    'Event-Category': 'directory',
    'Event-Name': 'reg_flush',
    'App-Name': 'other-system',
    'App-Version': '1.0',
    'Msg-ID': o.msgId === undefined ? randomUUID() : o.msgId,
    Realm: realm,
  };
  if (o.msgId === null) delete body['Msg-ID'];
  if (username) body.Username = username;
  if (o.callId) body['Call-ID'] = o.callId;
  if (o.contact) body.Contact = o.contact;
  return { exchange: 'registrar', routingKey: keys.regFlush(realm), body };
}

export interface FsOpts {
  subclass: 'sofia::register' | 'sofia::unregister' | 'sofia::expire';
  realm: string;
  username: string;
  contact?: string;
  callId?: string;
  expires?: number;
  us: number;
  refresh?: boolean;
  seq?: number;
}

export function freeswitch(o: FsOpts): Outgoing {
  const body: Record<string, string> = {
    'Event-Name': 'CUSTOM',
    'Event-Subclass': o.subclass,
    'Core-UUID': 'b1f3c7de-0000-4000-8000-000000000001',
    'FreeSWITCH-Hostname': 'fs1.example.net',
    'FreeSWITCH-Switchname': 'fs1',
    'FreeSWITCH-IPv4': '10.0.0.10',
    'Event-Date-Timestamp': String(o.us),
    'Event-Sequence': String(o.seq ?? o.us),
    'profile-name': 'internal',
    contact: o.contact ?? `"${o.username}" <sip:${o.username}@192.168.1.50:5062;transport=udp>`,
    'call-id': o.callId ?? `fs-${o.username}@${o.realm}`,
    'network-ip': '203.0.113.7',
    'network-port': '40001',
    'user-agent': 'Yealink SIP-T46G 66.86.0.15',
    username: o.username,
    realm: o.realm,
  };
  if (o.subclass === 'sofia::expire') {
    body.user = o.username;
    body.host = o.realm;
    body.expires = String(Math.floor(o.us / 1e6));
  } else {
    body['from-user'] = o.username;
    body['from-host'] = o.realm;
    body.expires = String(o.expires ?? 600);
  }
  if (o.subclass === 'sofia::register') {
    body.status = 'Registered(UDP)';
    body['update-reg'] = o.refresh ? 'true' : 'false';
    body['to-user'] = o.username;
    body['to-host'] = o.realm;
  }
  return {
    exchange: 'TAP.Events',
    routingKey: keys.freeswitchEvent('fs1.example.net', o.subclass),
    body,
  };
}

/** The stand-in account id the Kamailio harness fills in: md5("account:" + realm). */
export function accountIdOf(realm: string): string {
  return createHash('md5').update(`account:${realm.toLowerCase()}`).digest('hex');
}

/** Now in whole Unix seconds, as Kamailio stamps events. */
export const nowS = () => Math.floor(Date.now() / 1000);
