// A console to look at, outside the tests: its own database (never a deployment's) with one
// account holding generated bindings and an hour of history, the API app serving the built
// console, and a token. Used by `npm run console:screenshots` and `npm run bench:console`.
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { loadConfig } from '@app/config';
import { AccountStore, createDataSource, CredentialStore } from '@app/persistence';
import { initializeDataSource } from '@app/persistence/database-setup';
import { createApiApp } from '../../apps/api/src/api.bootstrap';
import { ensureVhost } from './rabbitmq-vhost';

export const DEMO_DATABASE_URL =
  process.env.CONSOLE_DEMO_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/registrations_console_demo';
export const DEMO_AMQP_URL =
  process.env.CONSOLE_DEMO_AMQP_URL ??
  'amqp://guest:guest@127.0.0.1:5672/registrations-console-demo';
export const DEMO_ACCOUNT = {
  id: 'c0de0000c0de0000c0de0000c0de0001',
  name: 'Northwind Telecom',
  realm: 'northwind.sip.example.net',
};
export const DEMO_SUBACCOUNT = {
  id: 'c0de0000c0de0000c0de0000c0de0002',
  name: 'Northwind — Lisbon office',
  realm: 'lisbon.northwind.sip.example.net',
  parentId: DEMO_ACCOUNT.id,
};

const REPO = resolve(__dirname, '../..');

/** The built console: dist/console (npm run build / npm run build:console). */
export function consoleDir(): string {
  const dir = join(REPO, 'dist/console');
  if (!existsSync(join(dir, 'index.html')))
    throw new Error('the console is not built: run `npm run build:console` first');
  return dir;
}

// n live bindings of the account: users 1000…, a few with two contacts; five phone models, MACs
// in the instance id, four proxies, registered over the last hour.
const INSERT_LIVE = `
  INSERT INTO registrations (
    realm_key, username_key, contact_uri, account_id, origin, realm, username, original_contact,
    contact_ip, contact_port, call_id, user_agent, expires, event_us, first_registered_at,
    last_registered_at, expires_at, refresh_count, source_ip, source_port, proxy_path, proxy_ip,
    proxy_port, proxy_protocol, registrar_node, from_user, from_host, to_user, to_host,
    sip_instance, mac)
  SELECT $2, username, contact_uri, $1, 'kazoo', $2, username,
         '<' || contact_uri || '>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-' || mac || '>"',
         ip, 5060, 'call-' || i, ua, expires, (extract(epoch FROM last_at) * 1e6)::bigint,
         first_at, last_at, last_at + make_interval(secs => expires),
         floor(extract(epoch FROM last_at - first_at) / 300)::int,
         ip, 5060 + i % 3, 'sip:192.0.2.' || (11 + i % 4) || ':5060;transport=udp',
         '192.0.2.' || (11 + i % 4), 5060, 'udp', 'kamailio@px' || (1 + i % 4) || '.example.net',
         username, $2, username, $2,
         '<urn:uuid:00000000-0000-1000-8000-' || mac || '>', mac
    FROM (
      SELECT i, username, ip, mac, ua, expires, first_at,
             greatest(first_at, now() - make_interval(secs => (i * 7) % (expires / 2))) AS last_at,
             'sip:' || username || '@' || ip || ':5060;transport=udp' AS contact_uri
        FROM (
          SELECT i, (1000 + CASE WHEN i % 25 = 24 THEN i - 1 ELSE i END)::text AS username,
                 '10.' || (i / 65536 % 256) || '.' || (i / 256 % 256) || '.' || (i % 256) AS ip,
                 '0015' || lpad(to_hex(i), 8, '0') AS mac,
                 (ARRAY['Yealink SIP-T46S 66.86.0.15', 'Yealink SIP-T54W 96.86.0.70',
                        'PolycomVVX-VVX_450-UA/6.4.3.0866', 'Grandstream GXP2170 1.0.11.23',
                        'Zoiper rv2.10.20.1'])[1 + (i * 7919 % 100 / 31)::int + (i % 2)] AS ua,
                 (ARRAY[600, 1800, 3600])[1 + i % 3] AS expires,
                 now() - make_interval(secs => (i * 37) % 3500 + 60) AS first_at
            FROM generate_series($3::int, $4::int) AS i
        ) a
    ) b`;

// An hour of ended segments (for the charts and timelines): reasons in proportion.
const INSERT_HISTORY = `
  INSERT INTO registration_history (
    registration_id, realm_key, username_key, contact_uri, account_id, origin, realm, username,
    original_contact, contact_ip, contact_port, user_agent, expires, event_us,
    first_registered_at, last_registered_at, expires_at, refresh_count, ended_at, end_reason,
    source_ip, source_port, proxy_ip, proxy_port)
  SELECT 1000000 + i, $2, username, contact_uri, $1, 'kazoo', $2, username, '<' || contact_uri || '>',
         '10.9.' || (i / 256 % 256) || '.' || (i % 256), 5060, ua, 600,
         (extract(epoch FROM ended) * 1e6)::bigint, started, ended, ended + interval '600 s',
         floor(extract(epoch FROM ended - started) / 300)::int, ended, reason,
         '10.9.' || (i / 256 % 256) || '.' || (i % 256), 5060, '192.0.2.11', 5060
    FROM (
      SELECT i, (1000 + i % 200)::text AS username,
             'sip:' || (1000 + i % 200) || '@10.9.' || (i / 256 % 256) || '.' || (i % 256) || ':5060' AS contact_uri,
             (ARRAY['Yealink SIP-T46S 66.86.0.15', 'Zoiper rv2.10.20.1'])[1 + i % 2] AS ua,
             now() - make_interval(secs => 3540 - (i * 53) % 3540) - interval '15 min' AS started,
             now() - make_interval(secs => 3540 - (i * 53) % 3540) AS ended,
             (ARRAY['unregistered', 'unregistered', 'expired', 'replaced', 'flushed'])[1 + i % 5] AS reason
        FROM generate_series(1, $3::int) AS i
    ) h`;

export interface Demo {
  url: string;
  token: string;
  close(): Promise<void>;
}

/** Makes the database hold exactly `live` bindings (and `history` ended ones), then starts the API. */
export async function startDemo(live: number, history: number): Promise<Demo> {
  if (!/console_demo|test|bench/.test(new URL(DEMO_DATABASE_URL).pathname))
    throw new Error(`refusing to load demo data into ${DEMO_DATABASE_URL}`);
  const ds = createDataSource(DEMO_DATABASE_URL, 1, 'registrations-console-demo');
  await initializeDataSource(ds, DEMO_DATABASE_URL, () => undefined);
  await ds.destroy();
  await ensureVhost(DEMO_AMQP_URL);
  const pool = new Pool({ connectionString: DEMO_DATABASE_URL, max: 2 });
  try {
    await pool.query(
      `TRUNCATE registrations, registration_history, extensions, accounts, api_keys, auth_tokens,
                registration_changes RESTART IDENTITY CASCADE`,
    );
    for (let from = 1; from <= live; from += 50_000)
      await pool.query(INSERT_LIVE, [
        DEMO_ACCOUNT.id,
        DEMO_ACCOUNT.realm,
        from,
        Math.min(live, from + 49_999),
      ]);
    await pool.query(INSERT_HISTORY, [DEMO_ACCOUNT.id, DEMO_ACCOUNT.realm, history]);
    await pool.query('VACUUM ANALYZE registrations');
  } finally {
    await pool.end();
  }
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: DEMO_DATABASE_URL,
    AMQP_URL: DEMO_AMQP_URL,
    QUEUE_PREFIX: 'console-demo',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  });
  const { app, url } = await createApiApp(config, { port: 0, consoleDir: consoleDir() });
  await app.get(AccountStore).createOrAdopt(DEMO_ACCOUNT);
  await app.get(AccountStore).createOrAdopt(DEMO_SUBACCOUNT);
  const credentials = app.get(CredentialStore);
  const grant = await credentials.issueToken(await credentials.createApiKey(DEMO_ACCOUNT.id), 3600);
  if (!grant) throw new Error('could not issue a demo token');
  return {
    url: url.replace('[::1]', '127.0.0.1'),
    token: grant.token,
    close: () => app.close(),
  };
}
