// Live bindings as the console holds them: the Kazoo list item (plus id, refresh_count and mac
// from /v2/console/…/bindings), their identity, the filters the API applies (so a binding
// arriving on the change feed is shown only where the list would show it), sorting, and times.
import { deriveMac, normaliseMac } from '../../libs/registrations/src/mac';

export const GREGORIAN_OFFSET_S = 62167219200;

export interface BindingItem {
  username: string;
  realm: string;
  contact?: string;
  original_contact?: string;
  source_ip?: string;
  source_port?: string;
  contact_ip?: string;
  contact_port?: string;
  proxy_ip?: string;
  proxy_port?: string;
  proxy_path?: string;
  user_agent?: string;
  mac?: string;
  initial_registration?: number;
  last_registration?: number;
  event_timestamp?: number;
  expires?: number;
  refresh_count?: number;
  call_id?: string;
  id?: number;
  /** Which proxy holds the binding (console list only). */
  held_by?: HeldBy;
}

export interface HeldBy {
  kind: 'kamailio' | 'freeswitch';
  hostname?: string;
  profile?: string;
}

/** A command as the API published it (console actions' answers). */
export interface Published {
  exchange: string;
  routing_key: string;
  body: string;
}

export interface Filters {
  username: string;
  mac: string;
  ip: string;
  user_agent: string;
  proxy: string;
  /** User and user agent as partial matches (starts with, contains; the console list only). */
  partial: boolean;
}

export const NO_FILTERS: Filters = {
  username: '',
  mac: '',
  ip: '',
  user_agent: '',
  proxy: '',
  partial: false,
};

/**
 * Query parameters of the list for these filters: filter_<key>, exact matches as Kazoo's; with
 * `partial`, search_username (starts with) and search_user_agent (contains) instead.
 */
export function filterParams(f: Filters): URLSearchParams | string {
  const p = new URLSearchParams();
  if (f.username.trim())
    p.set(f.partial ? 'search_username' : 'filter_username', f.username.trim());
  if (f.mac.trim()) {
    const mac = normaliseMac(f.mac.trim());
    if (!mac) return `not a MAC address: ${f.mac}`;
    p.set('filter_mac', mac);
  }
  if (f.ip.trim()) p.set('filter_source_ip', f.ip.trim());
  if (f.user_agent.trim())
    p.set(f.partial ? 'search_user_agent' : 'filter_user_agent', f.user_agent.trim());
  if (f.proxy.trim()) p.set('filter_proxy_ip', f.proxy.trim());
  return p;
}

/** The sip.instance of a contact (`+sip.instance="<urn:uuid:…>"`), if any. */
function sipInstanceOf(contact: string | undefined): string | undefined {
  const m = /\+sip\.instance="?(<[^>]*>|[^;">]+)"?/i.exec(contact ?? '');
  return m?.[1];
}

/** The MAC as the ingest derives it (same function): from the instance id, else the User-Agent. */
export function macOf(b: BindingItem): string | undefined {
  return b.mac ?? deriveMac(sipInstanceOf(b.original_contact ?? b.contact), b.user_agent);
}

export function matches(b: BindingItem, f: Filters): boolean {
  const eq = (want: string, have: string | undefined) => !want.trim() || want.trim() === have;
  const mac = f.mac.trim() ? normaliseMac(f.mac.trim()) : undefined;
  const user = f.username.trim().toLowerCase();
  const agent = f.user_agent.trim().toLowerCase();
  if (f.partial)
    return (
      b.username.toLowerCase().startsWith(user) &&
      (b.user_agent ?? '').toLowerCase().includes(agent) &&
      matches(b, { ...f, username: '', user_agent: '', partial: false })
    );
  return (
    (!user || user === b.username.toLowerCase()) &&
    (!f.mac.trim() || (mac !== undefined && mac === macOf(b))) &&
    eq(f.ip, b.source_ip) &&
    eq(f.user_agent, b.user_agent) &&
    eq(f.proxy, b.proxy_ip)
  );
}

/** One binding: realm, user (both without case) and contact, as the store keys it. */
export function bindingKey(b: BindingItem): string {
  return `${b.realm.toLowerCase()}\u0000${b.username.toLowerCase()}\u0000${b.original_contact ?? b.contact ?? ''}`;
}

const unixMs = (gregorianS: number | undefined) =>
  gregorianS === undefined ? undefined : (gregorianS - GREGORIAN_OFFSET_S) * 1000;

export function registeredSinceMs(b: BindingItem): number | undefined {
  return unixMs(b.initial_registration);
}

/** When the binding expires: its last event plus the expiry it was granted. */
export function expiresAtMs(b: BindingItem): number | undefined {
  const at = unixMs(b.event_timestamp ?? b.last_registration);
  return at === undefined || b.expires === undefined ? undefined : at + b.expires * 1000;
}

export function formatDuration(ms: number): string {
  if (ms <= 0) return 'expired';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(r)}` : `${m}:${pad(r)}`;
}

/** The contact's URI without its parameters' noise: what is inside <…>, else the contact. */
export function contactUri(b: BindingItem): string {
  const m = /<([^>]+)>/.exec(b.original_contact ?? '');
  return m ? m[1] : (b.contact ?? '');
}

/** A time as hh:mm:ss today, else yyyy-mm-dd hh:mm (local). */
export function shortTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return new Date(now).toDateString() === d.toDateString()
    ? `${hm}:${pad(d.getSeconds())}`
    : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}`;
}

export const address = (ip?: string, port?: string) =>
  ip ? (port ? `${ip.includes(':') ? `[${ip}]` : ip}:${port}` : ip) : '';

/** The API's sort keys (GET /v2/console/accounts/{id}/bindings?sort=…&order=…). */
export type SortKey =
  | 'username'
  | 'realm'
  | 'contact'
  | 'source_ip'
  | 'proxy'
  | 'user_agent'
  | 'mac'
  | 'registered_since'
  | 'expires'
  | 'last_refresh'
  | 'refreshes';

export interface Sort {
  key: SortKey;
  dir: 1 | -1;
}

/** The list's query parameters for a sort (none: the API's order, user, realm, contact). */
export function sortParams(sort: Sort | undefined): URLSearchParams {
  const p = new URLSearchParams();
  if (sort) {
    p.set('sort', sort.key);
    p.set('order', sort.dir === 1 ? 'asc' : 'desc');
  }
  return p;
}

// The value the server sorts by (binding-sort.ts), as near as the item shows it.
const SORT_VALUE: Record<SortKey, (b: BindingItem) => string | number> = {
  username: (b) => b.username.toLowerCase(),
  realm: (b) => b.realm.toLowerCase(),
  contact: (b) => contactUri(b),
  source_ip: (b) => b.source_ip ?? '',
  proxy: (b) => b.proxy_ip ?? '',
  user_agent: (b) => b.user_agent ?? '',
  mac: (b) => macOf(b) ?? '',
  registered_since: (b) => registeredSinceMs(b) ?? 0,
  expires: (b) => expiresAtMs(b) ?? 0,
  last_refresh: (b) => unixMs(b.last_registration) ?? 0,
  refreshes: (b) => b.refresh_count ?? 0,
};

/**
 * Whether a binding that arrived on the feed sorts at or before the last loaded row, i.e. within
 * what the pages so far cover (a later page would list it otherwise).
 */
export function sortsWithinLoaded(
  b: BindingItem,
  last: BindingItem,
  sort: Sort | undefined,
): boolean {
  const key = sort?.key ?? 'username';
  const x = SORT_VALUE[key](b);
  const y = SORT_VALUE[key](last);
  if (x === y && !sort) return b.realm.toLowerCase() <= last.realm.toLowerCase();
  return (sort?.dir ?? 1) === 1 ? x <= y : x >= y;
}

/** The proxy that holds a binding, in words: Kamailio via its proxy address, or a FreeSWITCH profile. */
export function proxyText(b: BindingItem): string {
  if (b.held_by?.kind === 'freeswitch')
    return `FreeSWITCH ${b.held_by.hostname ?? '(any switch)'}, profile ${b.held_by.profile ?? 'internal'}`;
  const via = address(b.proxy_ip, b.proxy_port);
  return via ? `Kamailio (proxy ${via})` : 'Kamailio';
}

/** The command a one-contact flush sends for this binding, as the API builds it. */
export function contactFlushText(b: BindingItem): string {
  if (b.held_by?.kind === 'freeswitch')
    return b.call_id
      ? `sofia profile ${b.held_by.profile ?? 'internal'} flush_inbound_reg ${b.call_id}`
      : `sofia profile ${b.held_by.profile ?? 'internal'} flush_inbound_reg ${b.username}@${b.realm}`;
  return `reg_flush for ${b.username}@${b.realm} naming Call-ID ${b.call_id ?? '(none)'} and Contact ${contactUri(b)}`;
}

/** One line per published command: what a person checks (event or API command, key fields). */
export function describePublished(p: Published): string {
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(p.body) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  if (!json || typeof json !== 'object') return `${p.exchange} ${p.routing_key}: ${p.body}`;
  const name = json['Event'] ?? json['Event-Name'];
  const keys = ['Username', 'Realm', 'Call-ID', 'Contact']
    .filter((k) => typeof json[k] === 'string')
    .map((k) => `${k}=${String(json[k])}`);
  return `${p.exchange} ${p.routing_key}: ${String(name)} ${keys.join(' ')}`.trim();
}
