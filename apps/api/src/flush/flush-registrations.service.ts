// Where a DELETE turns into a flush: find where the bindings are held, publish the commands
// that make those proxies drop them (Kazoo reg_flush to Kamailio, flush_inbound_reg to
// FreeSWITCH, check-sync NOTIFYs for flushed users), wait for the broker's confirms, then end
// the bindings in the store (history reason flushed) so the next read reflects the flush.
// Shared by every API dialect: there is one flush path.
import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { checkSync, freeswitchFlush, OutboundCommand, regFlush } from '@app/messaging';
import {
  Account,
  DialectQueries,
  FlushTarget,
  RegistrationQueries,
  RegistrationStore,
} from '@app/persistence';
import { CommandPublisher } from './command-publisher';
import { contactFlushCommands } from './contact-flush-commands';

export class FlushError extends Error {
  constructor(
    readonly code: 'unknown_username' | 'bus_unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface FlushRequest {
  account: Account;
  /** One SIP username, or every binding of the account. */
  username?: string;
  /** Also ask the phone to re-register at once (Kazoo check-sync NOTIFY), as Kazoo always does. */
  checkSync?: boolean;
}

/**
 * Selected live bindings, by id, that the caller was allowed to see (the sipXcom and hosted-PBX
 * filters). Proxies drop whole AORs, so the other live bindings of those AORs end too.
 */
export interface FlushBindingsRequest {
  ids: readonly number[];
  checkSync?: boolean;
  /**
   * Only these bindings (one contact each), not their whole AORs: Kamailio gets a reg_flush
   * naming the contact, FreeSWITCH flush_inbound_reg with the Call-ID (contact-flush-commands.ts).
   */
  perContact?: boolean;
}

export interface FlushResult {
  flushed: number;
  commands: number;
  /** Ids of the bindings ended. */
  ids: number[];
  /** What was published, as the bus confirmed it (exchange, routing key, body as text). */
  published?: PublishedCommand[];
}

export interface PublishedCommand {
  exchange: string;
  routing_key: string;
  body: string;
}

/** A check-sync NOTIFY alone (no flush): the phones of one user re-register and re-provision. */
export interface CheckSyncResult {
  published: PublishedCommand[];
}

@Injectable()
export class FlushRegistrationsService {
  private readonly logger = new Logger(FlushRegistrationsService.name);
  private readonly fsKeys: Map<string, string>;

  constructor(
    private readonly queries: RegistrationQueries,
    private readonly store: RegistrationStore,
    private readonly publisher: CommandPublisher,
    private readonly dialectQueries: DialectQueries,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.fsKeys = new Map(
      config.FS_COMMAND_ROUTING_KEYS.split(',')
        .map((pair) => pair.split('=').map((s) => s.trim()))
        .filter((p) => p.length === 2 && p[0] && p[1]) as [string, string][],
    );
  }

  async flush(req: FlushRequest | FlushBindingsRequest): Promise<FlushResult> {
    if ('ids' in req) return this.flushBindings(req);
    const targets = await this.queries.flushTargets(req.account.id, req.username);
    if (
      req.username !== undefined &&
      targets.length === 0 &&
      !(await this.queries.hasUsername(req.account.id, req.username))
    ) {
      throw new FlushError(
        'unknown_username',
        `account ${req.account.id} has no SIP username ${req.username}`,
      );
    }
    const commands = this.commandsFor(req, targets);
    await this.publish(commands);
    const ended = await this.store.endBindings(
      { accountId: req.account.id, username: req.username },
      'flushed',
    );
    this.logger.log(
      `flushed ${req.username ?? 'all'} of account ${req.account.id}: ${commands.length} commands, ${ended.length} bindings ended`,
    );
    return {
      flushed: ended.length,
      commands: commands.length,
      ids: idsOf(ended),
      published: commands.map(describe),
    };
  }

  private async flushBindings(req: FlushBindingsRequest): Promise<FlushResult> {
    if (req.perContact) return this.flushContacts(req.ids);
    const targets = await this.dialectQueries.flushTargetsOfBindings(req.ids);
    const commands = this.commandsFor(req, targets);
    await this.publish(commands);
    const ended =
      targets.length === 0
        ? []
        : await this.store.endBindings({ ids: targets.map((t) => t.id) }, 'flushed');
    this.logger.log(
      `flushed ${req.ids.length} selected bindings: ${commands.length} commands, ${ended.length} bindings ended`,
    );
    return {
      flushed: ended.length,
      commands: commands.length,
      ids: idsOf(ended),
      published: commands.map(describe),
    };
  }

  private async flushContacts(ids: readonly number[]): Promise<FlushResult> {
    const targets = await this.dialectQueries.flushTargetsOfContacts(ids);
    const commands = contactFlushCommands(targets, (host) => this.fsRoutingKey(host));
    await this.publish(commands);
    const ended =
      targets.length === 0
        ? []
        : await this.store.endBindings({ ids: targets.map((t) => t.id) }, 'flushed');
    this.logger.log(
      `flushed ${ids.length} selected contacts: ${commands.length} commands, ${ended.length} bindings ended`,
    );
    return {
      flushed: ended.length,
      commands: commands.length,
      ids: idsOf(ended),
      published: commands.map(describe),
    };
  }

  /**
   * Kazoo's check-sync NOTIFY (the one DELETE …/registrations/{username} sends after its flush)
   * without the flush: once per realm the user's live bindings registered in, else the
   * account's realm. unknown_username when the account never had that user.
   */
  async checkSyncOnly(account: Account, username: string): Promise<CheckSyncResult> {
    const targets = await this.queries.flushTargets(account.id, username);
    if (targets.length === 0 && !(await this.queries.hasUsername(account.id, username)))
      throw new FlushError(
        'unknown_username',
        `account ${account.id} has no SIP username ${username}`,
      );
    const syncs = new Map<string, OutboundCommand>();
    for (const t of targets)
      syncs.set(
        `${t.realm.toLowerCase()}\u0000${t.username.toLowerCase()}`,
        checkSync(t.realm, t.username),
      );
    if (syncs.size === 0 && account.realm) syncs.set('', checkSync(account.realm, username));
    const commands = [...syncs.values()];
    await this.publish(commands);
    this.logger.log(
      `check-sync for ${username} of account ${account.id}: ${commands.length} NOTIFY`,
    );
    return { published: commands.map(describe) };
  }

  private fsRoutingKey(hostname: string | null): string {
    return (hostname && this.fsKeys.get(hostname)) || this.config.FS_COMMAND_ROUTING_KEY;
  }

  private async publish(commands: OutboundCommand[]): Promise<void> {
    try {
      await this.publisher.publishAll(commands);
    } catch (e) {
      throw new FlushError(
        'bus_unavailable',
        `the message bus did not confirm the flush commands: ${(e as Error).message}`,
      );
    }
  }

  private commandsFor(
    req: FlushRequest | FlushBindingsRequest,
    targets: FlushTarget[],
  ): OutboundCommand[] {
    const commands: OutboundCommand[] = [];
    const account = 'ids' in req ? undefined : req.account;
    const username = 'ids' in req ? undefined : req.username;
    // Per user for one username or selected bindings, else per realm.
    const perUser = account === undefined || username !== undefined;
    // Kamailio matches the realm exactly, so the realm is sent as the phones registered it.
    const kazoo = new Map<string, { realm: string; username?: string }>();
    for (const t of targets) {
      if (t.origin === 'kazoo')
        kazoo.set(`${t.realm.toLowerCase()}\u0000${perUser ? t.username.toLowerCase() : ''}`, {
          realm: t.realm,
          username: perUser ? t.username : undefined,
        });
    }
    // Kamailio may hold bindings we never saw (registered before this service ran): address the
    // account's realm too when flushing the whole account, or when we know of no binding at all.
    const accountRealm = account?.realm;
    if (
      accountRealm &&
      ![...kazoo.values()].some((k) => k.realm.toLowerCase() === accountRealm.toLowerCase()) &&
      (username === undefined || targets.length === 0)
    ) {
      kazoo.set(accountRealm.toLowerCase(), { realm: accountRealm, username });
    }
    // check-sync goes to the phone whichever proxy holds it (the switch that has its
    // subscription sends the NOTIFY), once per user.
    const syncs = new Map<string, { realm: string; username: string }>();
    const sync = (realm: string, username: string) => {
      if (req.checkSync)
        syncs.set(`${realm.toLowerCase()}\u0000${username.toLowerCase()}`, { realm, username });
    };
    for (const { realm, username } of kazoo.values()) {
      commands.push(regFlush(realm, username));
      if (username !== undefined) sync(realm, username);
    }
    const seen = new Set<string>();
    for (const t of targets) {
      if (t.origin !== 'freeswitch') continue;
      if (perUser) sync(t.realm, t.username);
      const key = `${t.fs_hostname}|${t.fs_profile}|${t.username}@${t.realm}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const routingKey =
        (t.fs_hostname && this.fsKeys.get(t.fs_hostname)) || this.config.FS_COMMAND_ROUTING_KEY;
      commands.push(freeswitchFlush(t.fs_profile ?? 'internal', t.username, t.realm, routingKey));
    }
    for (const { realm, username } of syncs.values()) commands.push(checkSync(realm, username));
    return commands;
  }
}

function describe(c: OutboundCommand): PublishedCommand {
  return { exchange: c.exchange, routing_key: c.routingKey, body: c.body.toString('utf8') };
}

function idsOf(bindings: { id?: number }[]): number[] {
  return bindings.flatMap((b) => (b.id === undefined ? [] : [b.id]));
}
