// The bare pipeline's mapping of one proxy message to a `registrations` row (keys are column
// names): what a hand-written consumer would do, with no validation and no domain model, but
// filling the same columns the product fills, so that Postgres does the same work for both.
import { topology } from '@app/messaging/topology';

export type BareRow = Record<string, string | number | boolean | null | undefined>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- unvalidated wire JSON, on purpose
type Body = Record<string, any>;

const KAZOO_EXCHANGE = topology().registrar.name;
const INSTANCE = /\+sip\.instance="<([^>]*)>"/;
const MAC_IN_INSTANCE = /^urn:uuid:00000000-0000-1000-8000-([0-9a-f]{12})$/i;
const HOST_PORT = /^sips?:(?:[^@]*@)?([^:;>]+)(?::(\d+))?/;
const num = (v: unknown) => (v === undefined || v === null || v === '' ? null : Number(v));

/** Key, contact and time columns, common to both formats. endReason null = the binding is live. */
function binding(
  realm: string,
  username: string,
  contact: string,
  eventUs: number,
  expires: number,
  endReason: 'unregistered' | 'expired' | null,
): BareRow {
  // Contact URI = inside <> (header params such as +sip.instance dropped); ours all have <>.
  const lt = contact.indexOf('<');
  const uri = lt >= 0 ? contact.slice(lt + 1, contact.indexOf('>', lt)) : contact.split(';')[0];
  const hp = HOST_PORT.exec(uri);
  const instance = INSTANCE.exec(contact)?.[1];
  const mac = instance ? MAC_IN_INSTANCE.exec(instance)?.[1].toLowerCase() : undefined;
  return {
    realm_key: realm.toLowerCase(),
    username_key: username.toLowerCase(),
    contact_uri: uri,
    realm,
    username,
    original_contact: contact,
    contact_ip: hp?.[1],
    contact_port: hp?.[2] ? Number(hp[2]) : 5060,
    expires,
    event_us: eventUs,
    first_registered_at: eventUs,
    last_registered_at: eventUs,
    expires_at: eventUs + expires * 1e6,
    refresh_count: 0,
    ended_at: endReason ? eventUs : null,
    end_reason: endReason,
    sip_instance: instance,
    mac,
  };
}

function kazooRow(b: Body): BareRow {
  const off = b.Status === 'Unregistered' || Number(b.Expires) <= 0;
  const ccv: Body = b['Custom-Channel-Vars'] ?? {};
  return {
    ...binding(
      b.Realm,
      b.Username,
      b.Contact,
      Number(b['Event-Timestamp']) * 1e6,
      off ? 0 : Number(b.Expires),
      off ? 'unregistered' : null,
    ),
    account_id: ccv['Account-ID'],
    origin: 'kazoo',
    call_id: b['Call-ID'],
    user_agent: b['User-Agent'],
    last_msg_id: b['Msg-ID'],
    source_ip: b['Source-IP'],
    source_port: num(b['Source-Port']),
    proxy_path: b['Proxy-Path'],
    proxy_ip: b['Proxy-IP'],
    proxy_port: num(b['Proxy-Port']),
    proxy_protocol: b['Proxy-Protocol'],
    registrar_node: b.Node,
    from_user: b['From-User'],
    from_host: b['From-Host'],
    to_user: b['To-User'],
    to_host: b['To-Host'],
    authorizing_id: ccv['Authorizing-ID'],
    authorizing_type: ccv['Authorizing-Type'],
    owner_id: ccv['Owner-ID'],
    // Not columns: what the bare pipeline needs for the extension and account rows. Kamailio
    // says which registration is a phone's first; json_to_recordset ignores unknown keys.
    _first: b['First-Registration'] === true || b['First-Registration'] === 'true',
    _account_name: ccv['Account-Name'],
    _account_realm: ccv['Account-Realm'],
  };
}

function freeswitchRow(b: Body): BareRow {
  const sub = b['Event-Subclass'];
  const reason =
    sub === 'sofia::unregister' ? 'unregistered' : sub === 'sofia::expire' ? 'expired' : null;
  return {
    ...binding(
      b['from-host'] ?? b.host ?? b.realm,
      b['from-user'] ?? b.user ?? b.username,
      b.contact,
      Number(b['Event-Date-Timestamp']),
      reason ? 0 : Number(b.expires),
      reason,
    ),
    origin: 'freeswitch',
    call_id: b['call-id'],
    user_agent: b['user-agent'],
    last_msg_id: `${b['Core-UUID']}:${b['Event-Sequence']}`,
    source_ip: b['network-ip'],
    source_port: num(b['network-port']),
    network_ip: b['network-ip'],
    network_port: num(b['network-port']),
    proxy_ip: b['FreeSWITCH-IPv4'],
    proxy_protocol: /\((tcp|udp|tls|wss?)/i.exec(b.status ?? '')?.[1]?.toLowerCase() ?? 'udp',
    registrar_node: b['FreeSWITCH-Hostname'],
    from_user: b['from-user'],
    from_host: b['from-host'],
    to_user: b['to-user'],
    to_host: b['to-host'],
    fs_profile: b['profile-name'],
    fs_hostname: b['FreeSWITCH-Hostname'],
    _first: sub === 'sofia::register' && b['update-reg'] !== 'true',
  };
}

/** The format is told by the exchange, as the product's two queues tell it. */
export function toBareRow(exchange: string, content: Buffer): BareRow {
  const body = JSON.parse(content.toString('utf8')) as Body;
  return exchange === KAZOO_EXCHANGE ? kazooRow(body) : freeswitchRow(body);
}
