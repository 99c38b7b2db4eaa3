// The real ingest and API apps for the dialect tests, safe to run beside other test files:
// each file uses realms and accounts of its own (`*.<tag>.h8.test`), clears only those, and
// never truncates. Flush commands are observed on an exclusive queue bound to `registrar`
// (registration.flush.*) and `TAP.Commands` (#).
import 'reflect-metadata';
import type * as amqp from 'amqplib';
import type { Pool } from 'pg';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AccountStore, CredentialStore } from '@app/persistence';
import type { IngestApp } from '../../apps/ingest/src/ingest.bootstrap';
import { connectTestBroker, TestBroker } from '../support/amqp';
import { startApiApp, startIngestApp } from '../support/apps';
import { http, HttpResult } from '../support/api-harness';
import { testPool } from '../support/database';
import { accountIdOf } from '../support/messages';
import { testConfig } from '../support/test-env';

export interface TestAccount {
  id: string;
  realm: string;
  apiKey: string;
  token: string;
}

export interface Command {
  exchange: string;
  routingKey: string;
  text: string;
  /** The parsed body of JSON (Kazoo) commands. */
  json?: Record<string, unknown>;
}

export type Reply = HttpResult;

export class DialectHarness {
  readonly commands: Command[] = [];

  private constructor(
    readonly tag: string,
    readonly pool: Pool,
    readonly broker: TestBroker,
    readonly ingest: IngestApp,
    readonly api: NestFastifyApplication,
    readonly url: string,
    private readonly tap: amqp.ChannelModel,
  ) {}

  /** `seed` runs on the cleared database before the apps start; `env` overrides the API's config. */
  static async start(
    tag: string,
    seed?: (pool: Pool) => Promise<void>,
    env: Partial<Record<string, string>> = {},
  ): Promise<DialectHarness> {
    const pool = testPool();
    await clear(pool, tag);
    await seed?.(pool);
    const broker = await TestBroker.open();
    const ingest = await startIngestApp(testConfig());
    const { app, url } = await startApiApp(testConfig(env));
    const tap = await connectTestBroker('command tap connection');
    const h = new DialectHarness(tag, pool, broker, ingest, app, url, tap);
    await h.listen();
    return h;
  }

  /** A realm of this file's own. */
  realm(label: string): string {
    return `${label}.${this.tag}.h8.test`;
  }

  /** An account of this file's own (id as the Kazoo event builder derives it), key and token. */
  async account(
    label: string,
    opts: { parentId?: string; isSuperadmin?: boolean; tokenTtlS?: number } = {},
  ): Promise<TestAccount> {
    const realm = this.realm(label);
    const id = accountIdOf(realm);
    await this.api.get(AccountStore).createOrAdopt({
      id,
      name: label,
      realm,
      parentId: opts.parentId,
      isSuperadmin: opts.isSuperadmin,
    });
    const credentials = this.api.get(CredentialStore);
    const apiKey = await credentials.createApiKey(id);
    const grant = await credentials.issueToken(apiKey, opts.tokenTtlS ?? 3600);
    return { id, realm, apiKey, token: grant!.token };
  }

  /** A token that expired a minute ago. */
  async expiredToken(account: TestAccount): Promise<string> {
    return (await this.api.get(CredentialStore).issueToken(account.apiKey, -60))!.token;
  }

  async request(
    method: string,
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    return http(this.url, method, path, { headers });
  }

  /** Commands published since `from` (an index into `commands`) that concern the realm. */
  commandsFor(realm: string, from = 0): Command[] {
    return this.commands
      .slice(from)
      .filter((c) => c.json?.Realm === realm || c.text.includes(`@${realm}`));
  }

  async liveIds(realm: string, username?: string): Promise<number[]> {
    const { rows } = await this.pool.query(
      `SELECT id FROM registrations WHERE realm_key = lower($1) AND ($2::text IS NULL OR username_key = lower($2))
          AND ended_at IS NULL AND expires_at > now() ORDER BY id`,
      [realm, username ?? null],
    );
    return rows.map((r: { id: string }) => Number(r.id));
  }

  async stop(): Promise<void> {
    await this.tap.close().catch(() => undefined);
    await this.api.close();
    await this.ingest.app.close();
    await this.broker.close();
    await this.pool.end();
  }

  private async listen(): Promise<void> {
    const ch = await this.tap.createChannel();
    await ch.assertExchange('registrar', 'topic', { durable: false });
    await ch.assertExchange('TAP.Commands', 'topic', { durable: true });
    const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
    await ch.bindQueue(queue, 'registrar', 'registration.flush.*');
    await ch.bindQueue(queue, 'TAP.Commands', '#');
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const text = m.content.toString('utf8');
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = undefined;
        }
        this.commands.push({
          exchange: m.fields.exchange,
          routingKey: m.fields.routingKey,
          text,
          json,
        });
      },
      { noAck: true },
    );
  }
}

/** HTTP Basic credentials with an API key as password (sipXcom). */
export const basic = (apiKey: string, user = 'superadmin') => ({
  authorization: `Basic ${Buffer.from(`${user}:${apiKey}`).toString('base64')}`,
});
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const xAuth = (token: string) => ({ 'x-auth-token': token });

/** Removes what an earlier run of this file left: its realms' bindings, history and accounts. */
async function clear(pool: Pool, tag: string): Promise<void> {
  const like = `%.${tag}.h8.test`;
  await pool.query(`DELETE FROM registrations WHERE realm_key LIKE $1`, [like]);
  await pool.query(`DELETE FROM registration_history WHERE realm_key LIKE $1`, [like]);
  await pool.query(`DELETE FROM extensions WHERE realm_key LIKE $1`, [like]);
  await pool.query(`DELETE FROM accounts WHERE realm_key LIKE $1`, [like]);
}
