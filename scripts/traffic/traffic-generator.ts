// Deterministic registration traffic: simulated phones, the Kazoo reg_success and FreeSWITCH
// sofia::* messages they cause (wire-formats.md §2–3), and mixed event streams. Pure: no I/O.
import * as crypto from 'node:crypto';
import { keys, topology } from '@app/messaging/topology';

export type Origin = 'kazoo' | 'freeswitch';
export type TrafficKind = 'register' | 'refresh' | 'unregister' | 'expire';
export const TRAFFIC_KINDS: readonly TrafficKind[] = [
  'register',
  'refresh',
  'unregister',
  'expire',
];

const SUBCLASS = {
  register: 'sofia::register',
  refresh: 'sofia::register',
  unregister: 'sofia::unregister',
  expire: 'sofia::expire',
} as const;
type Subclass = (typeof SUBCLASS)[TrafficKind];

export interface TrafficMessage {
  exchange: string;
  routingKey: string;
  body: Record<string, unknown>;
  /** What the real producer sets: Kamailio application/json, mod_amqp text/json. */
  contentType: 'application/json' | 'text/json';
  origin: Origin;
  kind: TrafficKind;
  /** Index of the phone (binding) that sent it. */
  phone: number;
  eventUs: number;
}

/** Where a phone's registrations land: a Kamailio proxy or a FreeSWITCH switch. */
export interface SipNode {
  host: string;
  ip: string;
  coreUuid: string;
  /** Kamailio: its Proxy-Path and Server-ID. */
  proxyPath: string;
  serverId: string;
  /** FreeSWITCH: routing key per sofia subclass (encoding keys is costly; done once). */
  routingKeys: Readonly<Record<Subclass, string>>;
}

export interface Phone {
  index: number;
  origin: Origin;
  realm: string;
  username: string;
  callId: string;
  userAgent: string;
  mac?: string;
  /** The Contact header value as the proxy reports it (URI in <>, header parameters after). */
  contact: string;
  sourceIp: string;
  sourcePort: number;
  natted: boolean;
  expires: number;
  node: SipNode;
  /** Kazoo phones: the reg_success routing key (computed once, not per message). */
  routingKey?: string;
  /** Kazoo phones only: what Kazoo's authentication puts on the registration. */
  customChannelVars?: Readonly<Record<string, string>>;
}

export type Rng = () => number;

/** mulberry32: tiny, fast and good enough to make traffic reproducible from a seed. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
// Table lookups: toString(16) per id was a visible share of building 100k phones.
const hex8 = (rng: Rng) => {
  const x = Math.floor(rng() * 0x100000000);
  return HEX2[x >>> 24] + HEX2[(x >>> 16) & 255] + HEX2[(x >>> 8) & 255] + HEX2[x & 255];
};
const hex = (rng: Rng, n: number) => {
  let s = '';
  while (s.length < n) s += hex8(rng);
  return s.slice(0, n);
};
// crypto.hash (Node ≥ 20.12) is about twice as fast as createHash for one-shot digests.
const md5 = (s: string): string =>
  typeof crypto.hash === 'function'
    ? crypto.hash('md5', s, 'hex')
    : crypto.createHash('md5').update(s).digest('hex');

/**
 * Flattens a concatenated string in place (V8 keeps `a + b` as a tree of pieces until a
 * character is read). A stored routing key built char by char otherwise holds ~600 bytes of
 * pieces; flattening keeps a 200k-event stream near half the memory.
 */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/** A version-4 UUID drawn from the seeded generator (crypto.randomUUID would not repeat). */
export function uuid(rng: Rng): string {
  const b = hex8(rng);
  const c = hex8(rng);
  const variant = '89ab'[Math.floor(rng() * 4)];
  return flat(
    `${hex8(rng)}-${b.slice(0, 4)}-4${b.slice(5)}-${variant}${c.slice(1, 4)}-${c.slice(4)}${hex8(rng)}`,
  );
}

interface Vendor {
  weight: number;
  /** IEEE OUI of desk phones; softphones have no MAC. */
  oui?: string;
  instance: 'mac' | 'uuid' | 'none';
  softphone?: boolean;
  userAgent: (mac: string) => string;
  callId: (rng: Rng, ip: string, port: number) => string;
}

// Desk phones put their MAC in +sip.instance; Cisco SPA puts it in the User-Agent instead,
// softphones use a random instance id: all three paths of the service's MAC derivation get used.
const VENDORS: readonly Vendor[] = [
  {
    weight: 25,
    oui: '805ec0',
    instance: 'mac',
    userAgent: () => 'Yealink SIP-T46G 66.86.0.15',
    callId: (r, ip) => `0_${int(r, 1e8, 4294967295)}@${ip}`,
  },
  {
    weight: 10,
    oui: '249ad8',
    instance: 'mac',
    userAgent: () => 'Yealink SIP-T54W 96.86.0.100',
    callId: (r, ip) => `0_${int(r, 1e8, 4294967295)}@${ip}`,
  },
  {
    weight: 20,
    oui: '0004f2',
    instance: 'mac',
    userAgent: () => 'PolycomVVX-VVX_450-UA/6.4.3.0866',
    callId: (r) => `${hex8(r)}-${hex8(r)}-${hex8(r)}`,
  },
  {
    weight: 15,
    oui: '000b82',
    instance: 'mac',
    userAgent: () => 'Grandstream GXP2170 1.0.11.3',
    callId: (r, ip, port) => `${int(r, 1e9, 2e9)}-${port}-1@${ip}`,
  },
  {
    weight: 10,
    oui: '000413',
    instance: 'mac',
    userAgent: () => 'snomD785/10.1.54.13',
    callId: (r) => `${hex(r, 12)}-${hex(r, 12)}`,
  },
  {
    weight: 8,
    oui: '0018b9',
    instance: 'none',
    userAgent: (mac) => `Cisco/SPA504G-7.6.2 (${mac.toUpperCase()})`,
    callId: (r, ip) => `${hex8(r)}-${hex8(r)}@${ip}`,
  },
  {
    weight: 7,
    instance: 'uuid',
    softphone: true,
    userAgent: () => 'Z 5.6.1 v2.10.20.3',
    callId: (r) => hex(r, 22),
  },
  {
    weight: 5,
    instance: 'uuid',
    softphone: true,
    userAgent: () => 'Linphone/5.2.5 (belle-sip/5.2.4)',
    callId: (r) => hex(r, 10),
  },
];
const VENDOR_WEIGHT = VENDORS.reduce((s, v) => s + v.weight, 0);

function pickVendor(rng: Rng): Vendor {
  let x = rng() * VENDOR_WEIGHT;
  for (const v of VENDORS) if ((x -= v.weight) < 0) return v;
  return VENDORS[0];
}

/** What desk phones typically ask for; the proxy grants it unchanged. */
const EXPIRES = [300, 600, 900, 1800, 3600] as const;
// Public addresses from the documentation ranges (RFC 5737): the NAT side of the phones.
const PUBLIC_NETS = ['192.0.2', '198.51.100', '203.0.113'] as const;

function makeNodes(seed: number, origin: Origin): SipNode[] {
  const names = origin === 'kazoo' ? ['px1', 'px2'] : ['fs1', 'fs2'];
  return names.map((name, i) => {
    const host =
      origin === 'kazoo' ? `kamailio@${name}.sim.example.net` : `${name}.sim.example.net`;
    const ip = `192.0.2.${(origin === 'kazoo' ? 11 : 21) + i}`;
    const routingKeys = Object.fromEntries(
      Object.values(SUBCLASS).map((sub) => [sub, keys.freeswitchEvent(host, sub)]),
    ) as Record<Subclass, string>;
    return {
      host,
      ip,
      coreUuid: uuid(mulberry32(seed ^ (0x51ed0000 + (origin === 'kazoo' ? 0 : 16) + i))),
      proxyPath: `sip:${ip}:5060;transport=udp`,
      serverId: `${host}-<1>-targeted-0`,
      routingKeys,
    };
  });
}

export interface PhoneOptions {
  phones: number;
  realms: number;
  seed?: number;
  /** Share of phones registering through FreeSWITCH instead of Kazoo/Kamailio. */
  fsShare?: number;
  /** Granted expiry for every phone; by default each phone gets one of 300…3600 s. */
  expires?: number;
}

export function realmName(realmIndex: number, realms: number): string {
  return `realm${String(realmIndex + 1).padStart(Math.max(2, String(realms).length), '0')}.sim.example.net`;
}

/** Phone i depends only on (seed, i): asking for more phones keeps the first ones unchanged. */
export function makePhones({
  phones,
  realms,
  seed = 1,
  fsShare = 0.3,
  expires,
}: PhoneOptions): Phone[] {
  const nodes = { kazoo: makeNodes(seed, 'kazoo'), freeswitch: makeNodes(seed, 'freeswitch') };
  const realmNames = Array.from({ length: realms }, (_, r) => realmName(r, realms));
  const accountIds = realmNames.map((realm) => md5(`account:${realm}`));
  const accountNames = realmNames.map((_, r) => `Sim Customer ${String(r + 1).padStart(2, '0')}`);
  const out: Phone[] = new Array<Phone>(phones);
  for (let i = 0; i < phones; i++) {
    const rng = mulberry32(Math.imul(i + 1, 0x9e3779b1) ^ seed);
    const realmIndex = i % realms;
    const realm = realmNames[realmIndex];
    const username = String(1001 + Math.floor(i / realms));
    const origin: Origin = rng() < fsShare ? 'freeswitch' : 'kazoo';
    const vendor = pickVendor(rng);
    const mac = vendor.oui ? vendor.oui + hex(rng, 6) : undefined;
    const natted = rng() < 0.85;
    const publicIp = `${pick(rng, PUBLIC_NETS)}.${int(rng, 1, 254)}`;
    const ip = natted ? `192.168.${int(rng, 0, 31)}.${int(rng, 2, 254)}` : publicIp;
    const port = vendor.softphone ? int(rng, 40000, 65000) : 5060;
    const instanceId =
      vendor.instance === 'mac' && mac
        ? `00000000-0000-1000-8000-${mac}`
        : vendor.instance === 'uuid'
          ? uuid(rng)
          : undefined;
    const display = origin === 'freeswitch' ? `"${username}" ` : '';
    const instance = instanceId ? `;reg-id=1;+sip.instance="<urn:uuid:${instanceId}>"` : '';
    const kazoo = origin === 'kazoo';
    out[i] = {
      index: i,
      origin,
      realm,
      username,
      callId: flat(vendor.callId(rng, ip, port)),
      userAgent: flat(vendor.userAgent(mac ?? '')),
      mac,
      contact: flat(`${display}<sip:${username}@${ip}:${port};transport=udp>${instance}`),
      sourceIp: publicIp,
      sourcePort: natted ? int(rng, 1024, 65535) : port,
      natted,
      expires: expires ?? pick(rng, EXPIRES),
      node: pick(rng, nodes[origin]),
      routingKey: kazoo ? flat(keys.regSuccess(realm, username)) : undefined,
      customChannelVars: kazoo
        ? {
            'Account-ID': accountIds[realmIndex],
            'Account-Name': accountNames[realmIndex],
            'Account-Realm': realm,
            'Authorizing-ID': md5(`device:${username}@${realm}`),
            'Authorizing-Type': 'device',
            'Owner-ID': md5(`user:${username}@${realm}`),
            Username: username,
            Realm: realm,
          }
        : undefined,
    };
  }
  return out;
}

const TOPOLOGY = topology();

/** Kamailio's reg_success, with the keys of the captured fixtures (test/fixtures/kamailio). */
export function kazooRegSuccess(
  p: Phone,
  kind: Exclude<TrafficKind, 'expire'>,
  eventUs: number,
  msgId: string,
): TrafficMessage {
  const off = kind === 'unregister';
  const body = {
    'Event-Category': 'directory',
    'Event-Name': 'reg_success',
    Status: off ? 'Unregistered' : 'Registered',
    'Event-Timestamp': Math.floor(eventUs / 1e6),
    Expires: off ? 0 : p.expires,
    'First-Registration': kind === 'register',
    Contact: p.contact,
    'Call-ID': p.callId,
    Realm: p.realm,
    Username: p.username,
    'From-User': p.username,
    'From-Host': p.realm,
    'To-User': p.username,
    'To-Host': p.realm,
    'User-Agent': p.userAgent,
    // Shared by a phone's messages (never mutated): keeps a 200k-event stream small.
    'Custom-Channel-Vars': p.customChannelVars,
    'Proxy-Path': p.node.proxyPath,
    'Proxy-Protocol': 'udp',
    'Proxy-IP': p.node.ip,
    'Proxy-Port': '5060',
    'Source-IP': p.sourceIp,
    'Source-Port': String(p.sourcePort),
    'Proxy-URI': p.node.proxyPath,
    'App-Name': 'kamailio',
    'App-Version': '5.6.3',
    Node: p.node.host,
    'Msg-ID': msgId,
    'Server-ID': p.node.serverId,
  };
  return {
    exchange: TOPOLOGY.registrar.name,
    routingKey: p.routingKey ?? keys.regSuccess(p.realm, p.username),
    body,
    contentType: 'application/json',
    origin: 'kazoo',
    kind,
    phone: p.index,
    eventUs,
  };
}

/** The headers mod_amqp puts on every event. */
function fsCommon(p: Phone, subclass: Subclass, eventUs: number, sequence: number) {
  const date = new Date(Math.floor(eventUs / 1000));
  return {
    'Event-Name': 'CUSTOM',
    'Core-UUID': p.node.coreUuid,
    'FreeSWITCH-Hostname': p.node.host,
    'FreeSWITCH-Switchname': p.node.host,
    'FreeSWITCH-IPv4': p.node.ip,
    'FreeSWITCH-IPv6': '::1',
    'Event-Date-Local': date.toISOString().slice(0, 19).replace('T', ' '),
    'Event-Date-GMT': date.toUTCString(),
    'Event-Date-Timestamp': String(eventUs),
    'Event-Calling-File': 'sofia_reg.c',
    'Event-Calling-Function':
      subclass === 'sofia::expire' ? 'sofia_reg_del_callback' : 'sofia_reg_handle_register_token',
    'Event-Sequence': String(sequence),
    'Event-Subclass': subclass,
    'profile-name': 'internal',
  };
}

/** The sofia::* headers of wire-formats.md §3, per subclass; every value a string. */
function fsFields(p: Phone, kind: TrafficKind, eventUs: number): Record<string, string> {
  const port = String(p.sourcePort);
  if (kind === 'register' || kind === 'refresh') {
    return {
      'from-user': p.username,
      'from-host': p.realm,
      'presence-hosts': p.realm,
      contact: p.contact,
      'call-id': p.callId,
      rpid: 'unknown',
      status: p.natted ? 'Registered(UDP-NAT)' : 'Registered(UDP)',
      expires: String(p.expires),
      'to-user': p.username,
      'to-host': p.realm,
      'network-ip': p.sourceIp,
      'network-port': port,
      username: p.username,
      realm: p.realm,
      'user-agent': p.userAgent,
      'update-reg': kind === 'refresh' ? 'true' : 'false',
    };
  }
  if (kind === 'unregister') {
    return {
      username: p.username,
      'from-user': p.username,
      'from-host': p.realm,
      contact: p.contact,
      'call-id': p.callId,
      rpid: 'unknown',
      realm: p.realm,
      'network-ip': p.sourceIp,
      'network-port': port,
      'user-agent': p.userAgent,
      expires: '0',
    };
  }
  // Emitted by the expiry sweep: `expires` is the absolute second the binding ran out.
  return {
    'call-id': p.callId,
    user: p.username,
    username: p.username,
    host: p.realm,
    contact: p.contact,
    expires: String(Math.floor(eventUs / 1e6)),
    'user-agent': p.userAgent,
    realm: p.realm,
    'network-ip': p.sourceIp,
    'network-port': port,
  };
}

/** mod_amqp's CUSTOM sofia::* event: every header a string, timestamps in microseconds. */
export function freeswitchEvent(
  p: Phone,
  kind: TrafficKind,
  eventUs: number,
  sequence: number,
): TrafficMessage {
  const subclass = SUBCLASS[kind];
  return {
    exchange: TOPOLOGY.tapEvents.name,
    routingKey: p.node.routingKeys[subclass],
    body: Object.assign(fsCommon(p, subclass, eventUs, sequence), fsFields(p, kind, eventUs)),
    contentType: 'text/json',
    origin: 'freeswitch',
    kind,
    phone: p.index,
    eventUs,
  };
}

/** Msg-IDs and per-switch Event-Sequence counters: the state message building needs. */
export interface BuildContext {
  rng: Rng;
  fsSequence: Map<string, number>;
}

export function createBuildContext(seed = 1): BuildContext {
  return { rng: mulberry32(seed ^ 0x6d5e9000), fsSequence: new Map() };
}

export function buildMessage(
  ctx: BuildContext,
  p: Phone,
  kind: TrafficKind,
  eventUs: number,
): TrafficMessage {
  if (p.origin === 'kazoo') {
    if (kind === 'expire') throw new Error('Kamailio publishes nothing when a binding expires');
    return kazooRegSuccess(p, kind, eventUs, uuid(ctx.rng));
  }
  // A long-running switch is far into its sequence; start each switch at a seeded offset.
  const seq = (ctx.fsSequence.get(p.node.host) ?? int(ctx.rng, 100_000, 9_000_000)) + 1;
  ctx.fsSequence.set(p.node.host, seq);
  return freeswitchEvent(p, kind, eventUs, seq);
}

export interface Step {
  kind: TrafficKind;
  afterUs: number;
  /** Whether the binding is live after this step. */
  up: boolean;
}

/**
 * What a phone does next. A live phone refreshes at 45–90 % of its expiry or, with probability
 * `leaveP`, goes away: unregisters, or goes silent (FreeSWITCH then publishes sofia::expire at
 * the expiry; Kamailio publishes nothing, so the next thing seen is a fresh register).
 */
/** Share of departures that are silent (power cut, network loss) rather than an unregister. */
const SILENT_SHARE = 0.3;

export function nextStep(rng: Rng, p: Phone, up: boolean, leaveP: number): Step {
  const expUs = p.expires * 1e6;
  // How long a phone stays away: a reboot or a short outage, never more than five minutes.
  const awayUs = () => int(rng, 2e6, Math.max(5e6, Math.min(expUs, 300e6)));
  if (!up) return { kind: 'register', afterUs: awayUs(), up: true };
  if (rng() >= leaveP) {
    return { kind: 'refresh', afterUs: Math.floor(expUs * (0.45 + 0.45 * rng())), up: true };
  }
  if (rng() < SILENT_SHARE) {
    if (p.origin === 'freeswitch') return { kind: 'expire', afterUs: expUs, up: false };
    return { kind: 'register', afterUs: expUs + awayUs(), up: true };
  }
  return {
    kind: 'unregister',
    afterUs: int(rng, 1e6, Math.max(1e6, Math.floor(expUs * 0.9))),
    up: false,
  };
}

export interface MixedStreamOptions {
  aors: number;
  eventsTotal: number;
  seed?: number;
  fsShare?: number;
  /** Roughly the share of all events that end a binding (unregister or expire). */
  unregisterShare?: number;
  /** Time of the earliest register. Default: a fixed instant, so that streams are reproducible. */
  startUs?: number;
  realms?: number;
  /** The first registers are spread over this many seconds. */
  registerWindowS?: number;
}

export const DEFAULT_START_US = Date.UTC(2025, 0, 6, 9, 0, 0) * 1000;

/**
 * `eventsTotal` events over `aors` phones (one binding each), ordered by time: every binding
 * starts with a register; the rest are spread at random over the bindings as refreshes,
 * unregisters, expiries and re-registers.
 */
export function mixedStream(o: MixedStreamOptions): TrafficMessage[] {
  const {
    aors,
    eventsTotal,
    seed = 1,
    fsShare = 0.3,
    unregisterShare = 0.05,
    startUs = DEFAULT_START_US,
  } = o;
  if (!Number.isInteger(aors) || aors < 1 || !Number.isInteger(eventsTotal) || eventsTotal < 0) {
    throw new RangeError('aors must be a positive integer and eventsTotal a non-negative integer');
  }
  const n = Math.min(aors, eventsTotal);
  const realms = o.realms ?? Math.min(999, Math.max(1, Math.ceil(aors / 1000)));
  const phones = makePhones({ phones: n, realms, seed, fsShare });
  const rng = mulberry32(seed ^ 0x5eed5eed);
  const counts = new Uint32Array(n).fill(1);
  for (let e = n; e < eventsTotal; e++) counts[Math.floor(rng() * n)]++;
  // Per non-first event, so that about unregisterShare of *all* events end a binding. A Kazoo
  // phone that leaves goes silent 30 % of the time, which ends nothing visible: leave more often.
  const extra = eventsTotal - n;
  const visible = fsShare + (1 - fsShare) * (1 - SILENT_SHARE);
  const leaveP = extra > 0 ? Math.min(0.9, (unregisterShare * eventsTotal) / extra / visible) : 0;

  // Plan in typed arrays (cheap for 200k events), then sort once by time.
  const times = new Float64Array(eventsTotal);
  const who = new Uint32Array(eventsTotal);
  const kinds = new Uint8Array(eventsTotal);
  const windowUs = (o.registerWindowS ?? 300) * 1e6;
  let w = 0;
  for (let i = 0; i < n; i++) {
    let t = startUs + Math.floor(rng() * windowUs);
    let up = true;
    times[w] = t;
    who[w++] = i;
    for (let j = 1; j < counts[i]; j++) {
      const s = nextStep(rng, phones[i], up, leaveP);
      t += s.afterUs;
      up = s.up;
      times[w] = t;
      who[w] = i;
      kinds[w++] = TRAFFIC_KINDS.indexOf(s.kind);
    }
  }
  // Ties broken by plan position, which keeps each binding's own events in order.
  const order = new Uint32Array(eventsTotal)
    .map((_, k) => k)
    .sort((a, b) => times[a] - times[b] || a - b);
  const ctx = createBuildContext(seed);
  const out = new Array<TrafficMessage>(eventsTotal);
  for (let k = 0; k < eventsTotal; k++) {
    const idx = order[k];
    out[k] = buildMessage(ctx, phones[who[idx]], TRAFFIC_KINDS[kinds[idx]], times[idx]);
  }
  return out;
}
