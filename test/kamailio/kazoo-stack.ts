// The whole chain for the Kamailio end-to-end specs: the real ingest app and API app on the
// test database and vhost, a real Kamailio publishing to that same vhost, one Kazoo account per
// realm the phones use (with the id the harness's Kamailio stamps: md5("account:" + realm)) and
// a super-admin token, plus small helpers to call the Kazoo API and read Kamailio's side.
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { AccountStore, CredentialStore } from '@app/persistence';
import { GREGORIAN_OFFSET_S } from '@app/registrations';
import { startApiApp } from '../support/apps';
import { connectTestBroker } from '../support/amqp';
import { Harness, startIngest } from '../support/ingest-harness';
import { accountIdOf } from '../support/messages';
import { TEST_AMQP_URL, testConfig } from '../support/test-env';
import { findFreePort, KamailioHandle, KamailioOptions, startKamailio } from './kamailio-harness';
import { contactOf, Phone } from '../sipp/make-phones';

export interface KazooReply<T> {
  status: number;
  body: { status: string; data: T; page_size?: number; error?: string; message?: string };
}

/** One listed registration, as the Kazoo API returns it. */
export type KazooItem = Record<string, string | number | boolean>;

export interface KazooStack {
  ingest: Harness;
  /** The API app (its stores, for tests that make more accounts or keys). */
  api: Awaited<ReturnType<typeof startApiApp>>;
  kam: KamailioHandle;
  /** Realms are realmNN.<domain>: unique per run, since a reg_flush reaches every Kamailio on the vhost. */
  domain: string;
  apiUrl: string;
  /** The super-admin's auth token (X-Auth-Token). */
  token: string;
  /** Account of each realm, and its name. */
  account(realm: string): { id: string; name: string };
  get<T>(path: string): Promise<KazooReply<T>>;
  del<T>(path: string): Promise<KazooReply<T>>;
  /** Live registrations of the realm's account, through GET …/registrations, by username then contact. */
  list(realm: string): Promise<KazooItem[]>;
  /** GET /v2/registrations/count with the super-admin token. */
  totalCount(): Promise<number>;
  /** Kamailio's contacts per realm (one JSON-RPC dump). */
  kamailioByRealm(): Promise<Map<string, number>>;
  /**
   * The Expires of the last reg_success Kamailio published for each Call-ID of this stack's
   * realms (what its registrar granted), from a tap on `registrar` bound at start.
   */
  granted(): Promise<Map<string, number>>;
  stop(): Promise<void>;
}

export async function startKazooStack(
  realms: readonly number[],
  kamailio: Partial<KamailioOptions> = {},
  /** Configuration of both apps, over testConfig's. */
  env: Partial<Record<string, string>> = {},
): Promise<KazooStack> {
  const ingest = await startIngest(env);
  let api: Awaited<ReturnType<typeof startApiApp>> | undefined;
  let kam: KamailioHandle | undefined;
  try {
    api = await startApiApp(testConfig(env));
    const sipPort = await findFreePort();
    kam = await startKamailio({ ...kamailio, amqpUrl: TEST_AMQP_URL, sipPort });
    const domain = `p${sipPort}.e2e.test`;

    const accounts = api.app.get(AccountStore);
    const credentials = api.app.get(CredentialStore);
    const byRealm = new Map<string, { id: string; name: string }>();
    for (const n of realms) {
      const realm = `realm${String(n).padStart(2, '0')}.${domain}`;
      const a = { id: accountIdOf(realm), name: `Customer ${n}`, realm };
      await accounts.createOrAdopt(a);
      byRealm.set(realm, { id: a.id, name: a.name });
    }
    const admin = await accounts.createOrAdopt({
      id: md5(`admin:${domain}`),
      name: 'Platform admin',
      realm: `admin.${domain}`,
      isSuperadmin: true,
    });
    const apiKey = await credentials.createApiKey(admin.id);
    const apiUrl = api.url.replace('[::1]', '127.0.0.1');
    const login = await fetch(`${apiUrl}/v2/api_auth`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: { api_key: apiKey } }),
    });
    if (login.status !== 201) throw new Error(`api_auth answered ${login.status}`);
    const token = ((await login.json()) as { auth_token: string }).auth_token;

    const call = async <T>(method: string, path: string): Promise<KazooReply<T>> => {
      const res = await fetch(`${apiUrl}${path}`, { method, headers: { 'x-auth-token': token } });
      return { status: res.status, body: (await res.json()) as KazooReply<T>['body'] };
    };
    const account = (realm: string) => {
      const a = byRealm.get(realm);
      if (!a) throw new Error(`no account for realm ${realm}`);
      return a;
    };
    // What Kamailio publishes, read beside the ingest (an exclusive queue of our own).
    const tapConn = await connectTestBroker('registrar tap connection');
    const tap = await tapConn.createChannel();
    const { queue: tapQueue } = await tap.assertQueue('', { exclusive: true, autoDelete: true });
    await tap.bindQueue(tapQueue, 'registrar', 'registration.success.#');
    const grants = new Map<string, number>();
    const k = kam;
    const a = api;
    return {
      ingest,
      api,
      kam,
      domain,
      apiUrl,
      token,
      account,
      get: (path) => call('GET', path),
      del: (path) => call('DELETE', path),
      async list(realm) {
        const r = await call<KazooItem[]>('GET', `/v2/accounts/${account(realm).id}/registrations`);
        if (r.status !== 200)
          throw new Error(`list ${realm}: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.data;
      },
      async totalCount() {
        const r = await call<{ count: number }>('GET', '/v2/registrations/count');
        if (r.status !== 200) throw new Error(`count: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.data.count;
      },
      async kamailioByRealm() {
        const out = new Map<string, number>();
        for (const [aor, contacts] of await k.dump()) {
          const realm = aor.slice(aor.lastIndexOf('@') + 1);
          out.set(realm, (out.get(realm) ?? 0) + contacts.length);
        }
        return out;
      },
      async granted() {
        for (;;) {
          const m = await tap.get(tapQueue, { noAck: true });
          if (!m) break;
          const body = JSON.parse(m.content.toString('utf8')) as Record<string, unknown>;
          if (String(body.Realm).endsWith(`.${domain}`))
            grants.set(String(body['Call-ID']), Number(body.Expires));
        }
        return grants;
      },
      async stop() {
        await tapConn.close().catch(() => undefined);
        await k.stop();
        await a.app.close();
        await ingest.stop();
      },
    };
  } catch (e) {
    await kam?.stop();
    await api?.app.close();
    await ingest.stop();
    throw e;
  }
}

/** Rows of registration_history (ended bindings), oldest first. */
export async function endedBindings(pool: Pool): Promise<EndedRow[]> {
  const { rows } = await pool.query<EndedRow>(
    `SELECT username, realm, contact_uri, call_id, user_agent, mac, end_reason, expires_at, ended_at
       FROM registration_history ORDER BY id`,
  );
  return rows;
}

export interface EndedRow {
  username: string;
  realm: string;
  contact_uri: string;
  call_id: string | null;
  user_agent: string | null;
  mac: string | null;
  end_reason: string;
  expires_at: Date;
  ended_at: Date;
}

export function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/** Gregorian seconds (Kazoo's timestamps) of a Date.now() value. */
export function gregorian(ms: number): number {
  return Math.floor(ms / 1000) + GREGORIAN_OFFSET_S;
}

export interface SentBy {
  /** Kamailio's SIP port. */
  sipPort: number;
  /** The sipp port the phone registered from (its Contact and source port). */
  localPort: number;
  transport: 'udp' | 'tcp';
  accountName: string;
}

/**
 * What the Kazoo API must show for a phone, from what sipp sent and where it sent it. Kazoo's
 * `contact` is the raw Contact without `<` and `>`; ports are strings (api-dialects.md A).
 */
export function expectedItem(p: Phone, s: SentBy): KazooItem {
  const raw = contactOf(p, s.localPort, s.transport === 'tcp' ? 'TCP' : 'UDP');
  return {
    account_name: s.accountName,
    account_realm: p.realm,
    authorizing_id: md5(`device:${p.username}@${p.realm}`),
    authorizing_type: 'device',
    call_id: p.callId,
    contact: raw.replace(/[<>]/g, ''),
    contact_ip: '127.0.0.1',
    contact_port: s.localPort,
    expires: p.expires,
    from_host: p.realm,
    from_user: p.username,
    original_contact: raw,
    proxy_ip: '127.0.0.1',
    proxy_path: `sip:127.0.0.1:${s.sipPort};transport=${s.transport}`,
    proxy_port: s.sipPort,
    proxy_protocol: s.transport,
    realm: p.realm,
    registrar_node: 'kamailio@harness.kamailio',
    source_ip: '127.0.0.1',
    source_port: String(s.localPort),
    to_host: p.realm,
    to_user: p.username,
    user_agent: p.userAgent,
    username: p.username,
  };
}

/** The item restricted to the keys of `expectedItem` (the rest is checked separately). */
export function comparable(item: KazooItem): KazooItem {
  const keys = Object.keys(
    expectedItem(
      { username: '', realm: '', callId: '', userAgent: '', mac: '', expires: 0 },
      { sipPort: 0, localPort: 0, transport: 'udp', accountName: '' },
    ),
  );
  return Object.fromEntries(keys.filter((k) => k in item).map((k) => [k, item[k]]));
}
