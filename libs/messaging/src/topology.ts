// Every exchange, queue, binding key and dead letter this service uses, declared once and
// imported by producers, consumers, tests and benchmarks alike.
import { encodeSegment } from './routing-key.codec';

export interface ExchangeSpec {
  name: string;
  type: 'topic' | 'direct' | 'fanout';
  durable: boolean;
}

export interface QueueSpec {
  name: string;
  exchange: ExchangeSpec;
  bindingKeys: string[];
  /** Queue arguments: dead letters, and one active consumer at a time to keep order. */
  arguments: Record<string, unknown>;
}

export interface TopologyOptions {
  /** Kamailio's kazoo module declares `registrar` non-durable; a durable declaration fails 406. */
  kazooExchangeDurable: boolean;
  /** Prefix for our own queue names (lets tests and benchmarks run beside a real deployment). */
  queuePrefix: string;
}

export const DEFAULT_TOPOLOGY_OPTIONS: TopologyOptions = {
  kazooExchangeDurable: false,
  queuePrefix: 'registrations',
};

export const FS_SUBCLASSES = ['sofia::register', 'sofia::unregister', 'sofia::expire'] as const;

export function topology(opts: TopologyOptions = DEFAULT_TOPOLOGY_OPTIONS) {
  const registrar: ExchangeSpec = {
    name: 'registrar',
    type: 'topic',
    durable: opts.kazooExchangeDurable,
  };
  const tapEvents: ExchangeSpec = { name: 'TAP.Events', type: 'topic', durable: true };
  const tapCommands: ExchangeSpec = { name: 'TAP.Commands', type: 'topic', durable: true };
  /** The change feed: `<change>.<account_id>.<encoded realm>.<encoded username>`. */
  const changes: ExchangeSpec = { name: 'registrations.changes', type: 'topic', durable: true };
  /** Kazoo's notifications (optional): notifications.sip.register / deregister. */
  const notifications: ExchangeSpec = {
    name: 'notifications',
    type: 'topic',
    durable: opts.kazooExchangeDurable,
  };
  /** Kazoo's exchange for switch commands (check-sync NOTIFY). */
  const switchExchange: ExchangeSpec = {
    name: 'switch',
    type: 'topic',
    durable: opts.kazooExchangeDurable,
  };
  const deadLetter: ExchangeSpec = {
    name: `${opts.queuePrefix}.dead-letter`,
    type: 'fanout',
    durable: true,
  };
  const dlArgs = { 'x-dead-letter-exchange': deadLetter.name, 'x-single-active-consumer': true };
  const kazooQueue: QueueSpec = {
    name: `${opts.queuePrefix}.kazoo`,
    exchange: registrar,
    bindingKeys: ['registration.success.*.*', 'registration.flush.*'],
    arguments: dlArgs,
  };
  const freeswitchQueue: QueueSpec = {
    name: `${opts.queuePrefix}.freeswitch`,
    exchange: tapEvents,
    bindingKeys: FS_SUBCLASSES.map((s) => `*.*.CUSTOM.${encodeSegment(s)}.#`),
    arguments: dlArgs,
  };
  const deadLetterQueue: QueueSpec = {
    name: `${opts.queuePrefix}.dead-letter`,
    exchange: deadLetter,
    bindingKeys: [''],
    arguments: {},
  };
  /**
   * reg_query (kapi_registration:get_query_routing/2: registration.query.<realm>.<user|*>),
   * answered from Postgres. Shared by the API instances (one answers each query), not durable,
   * and a query older than its asker's patience is dropped.
   */
  const regQueryQueue: QueueSpec = {
    name: `${opts.queuePrefix}.reg-query`,
    exchange: registrar,
    bindingKeys: ['registration.query.*.*'],
    arguments: { 'x-message-ttl': 10_000 },
  };
  return {
    regQueryQueue,
    registrar,
    tapEvents,
    tapCommands,
    switchExchange,
    changes,
    notifications,
    deadLetter,
    kazooQueue,
    freeswitchQueue,
    deadLetterQueue,
  };
}

export type Topology = ReturnType<typeof topology>;

/** Routing keys the proxies publish with. */
export const keys = {
  regSuccess: (realm: string, username: string) =>
    `registration.success.${encodeSegment(realm)}.${encodeSegment(username)}`,
  regFlush: (realm: string) => `registration.flush.${encodeSegment(realm)}`,
  regQuery: (realm: string, username?: string) =>
    `registration.query.${encodeSegment(realm)}.${username === undefined ? '*' : encodeSegment(username)}`,
  change: (change: string, accountId: string | null, realm: string, username: string) =>
    `${change}.${accountId ?? 'unassigned'}.${encodeSegment(realm)}.${encodeSegment(username)}`,
  freeswitchEvent: (hostname: string, subclass: string, uniqueId = '') =>
    [
      'FreeSWITCH',
      encodeSegment(hostname),
      'CUSTOM',
      encodeSegment(subclass),
      encodeSegment(uniqueId),
    ].join('.'),
};

/** Header carrying why a message was dead-lettered. */
export const REJECT_REASON_HEADER = 'x-reject-reason';

/** kz_amqp_util's ?EXCHANGE_TARGETED: direct, routing key = the asker's queue (reg_query and
 * reg_sync answers). */
export const TARGETED_EXCHANGE = 'targeted';
