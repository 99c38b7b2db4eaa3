// The API benchmark's data: its own database (never a deployment's), migrated as the apps do,
// holding 1,000,000 live bindings over 1,000 accounts, one of which (the "big" account) holds
// exactly 10,000. Loaded with INSERT … SELECT FROM generate_series, in chunks; skipped when a
// previous run already left exactly this data behind.
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { createDataSource } from '@app/persistence/data-source';
import { initializeDataSource } from '@app/persistence/database-setup';

export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/registrations_bench_api';

export const TOTAL_BINDINGS = 1_000_000;
export const ACCOUNTS = 1_000;
export const BIG_ACCOUNT_BINDINGS = 10_000;
/** Every 100th generated row belongs to the big account: its rows are spread over the table. */
const BIG_EVERY = TOTAL_BINDINGS / BIG_ACCOUNT_BINDINGS;
const CHUNK = 100_000;

/** Account n's id: 32 lower-case hex digits, as Kazoo's. Account 0 is the big one. */
export const accountIdSql = (n: string) => `md5('bench-api-account-' || ${n})`;
export const BIG_ACCOUNT_REALM = 'acct0000.bench.example.net';

export async function prepareDatabase(): Promise<void> {
  const ds = createDataSource(BENCH_DATABASE_URL, 1, 'registrations-bench-api');
  await initializeDataSource(ds, BENCH_DATABASE_URL, (m) => console.log(m));
  await ds.destroy();
}

export async function bigAccountId(pool: Pool): Promise<string> {
  const { rows } = await pool.query(`SELECT ${accountIdSql('0')} AS id`);
  return rows[0].id as string;
}

/** Whether the table already holds exactly this benchmark's data. */
async function alreadyLoaded(pool: Pool, bigId: string): Promise<boolean> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM registrations)::int AS total,
            (SELECT count(*) FROM registrations
              WHERE ended_at IS NULL AND expires_at > now() + interval '1 day')::int AS live,
            (SELECT count(*) FROM registrations WHERE account_id = $1
                AND ended_at IS NULL AND expires_at > now())::int AS big,
            (SELECT count(*) FROM accounts)::int AS accounts`,
    [bigId],
  );
  const r = rows[0];
  return (
    r.total === TOTAL_BINDINGS &&
    r.live === TOTAL_BINDINGS &&
    r.big === BIG_ACCOUNT_BINDINGS &&
    r.accounts === ACCOUNTS
  );
}

/**
 * One generated binding per i. Kazoo-shaped (80 %) or FreeSWITCH-shaped (20 %) rows, with every
 * column the ingest path fills, values in the formats the ingest app writes. j = 7919·i mod the
 * prime 1,000,003 is a permutation of i: usernames (100000 + j) are unique and an account's index
 * order is unrelated to the physical order of its rows, as after months of registrations; the
 * other varying values derive from j too, so that the big account (every 100th i) gets a mix.
 */
const INSERT_CHUNK = `
  INSERT INTO registrations (
    realm_key, username_key, contact_uri, account_id, origin, realm, username, original_contact,
    contact_ip, contact_port, call_id, user_agent, expires, event_us, last_msg_id,
    first_registered_at, last_registered_at, expires_at, refresh_count, ended_at, end_reason,
    source_ip, source_port, network_ip, network_port, proxy_path, proxy_ip, proxy_port,
    proxy_protocol, registrar_node, from_user, from_host, to_user, to_host, authorizing_id,
    authorizing_type, owner_id, suppress_unregister_notify, sip_instance, mac, fs_profile,
    fs_hostname)
  SELECT realm, username, contact_uri, ${accountIdSql('acct')}, origin, realm, username,
         CASE WHEN kazoo THEN '' ELSE '"' || username || '" ' END
           || '<' || contact_uri || '>;reg-id=1;+sip.instance="' || instance || '"',
         ip, port, substr(md5('call' || i), 1, 22), ua, expires,
         (extract(epoch FROM last_at) * 1000000)::bigint,
         CASE WHEN kazoo THEN uuid ELSE uuid || ':' || i END,
         last_at - make_interval(secs => (j % 86400)), last_at,
         now() + interval '10 years', (j % 50), NULL, NULL,
         '203.0.' || (j % 200 + 10)::text || '.' || (j % 250 + 1)::text, 1024 + j % 60000,
         CASE WHEN kazoo THEN NULL ELSE '203.0.' || (j % 200 + 10)::text || '.' || (j % 250 + 1)::text END,
         CASE WHEN kazoo THEN NULL ELSE 1024 + j % 60000 END,
         CASE WHEN kazoo THEN 'sip:192.0.2.' || (11 + j % 4) || ':5060;transport=udp' END,
         CASE WHEN kazoo THEN '192.0.2.' || (11 + j % 4) ELSE '192.0.2.21' END,
         CASE WHEN kazoo THEN 5060 END,
         'udp',
         CASE WHEN kazoo THEN 'kamailio@px' || (1 + j % 4) || '.bench.example.net'
              ELSE 'fs' || (1 + j % 2) || '.bench.example.net' END,
         username, realm, username, realm,
         CASE WHEN kazoo THEN md5('device' || i) END,
         CASE WHEN kazoo THEN 'device' END,
         CASE WHEN kazoo THEN md5('owner' || i) END,
         CASE WHEN kazoo AND j % 10 = 0 THEN true END,
         instance,
         CASE WHEN kazoo THEN NULL ELSE mac END,
         CASE WHEN kazoo THEN NULL ELSE 'internal' END,
         CASE WHEN kazoo THEN NULL ELSE 'fs' || (1 + j % 2) || '.bench.example.net' END
    FROM (
      SELECT i, j, acct, kazoo, username, realm, ip, port, ua, expires, last_at, uuid, mac,
             'sip:' || username || '@' || ip || ':' || port || ';transport=udp' AS contact_uri,
             CASE WHEN kazoo THEN '<urn:uuid:' || uuid || '>'
                  ELSE '<urn:uuid:00000000-0000-1000-8000-' || mac || '>' END AS instance,
             CASE WHEN kazoo THEN 'kazoo' ELSE 'freeswitch' END AS origin
        FROM (
          SELECT i, j, acct, j % 5 <> 0 AS kazoo,
                 (100000 + j)::text AS username,
                 'acct' || lpad(acct::text, 4, '0') || '.bench.example.net' AS realm,
                 '10.' || ((i >> 16) & 255) || '.' || ((i >> 8) & 255) || '.' || (i & 255) AS ip,
                 5060 + (j % 7) * 1000 AS port,
                 (ARRAY['Yealink SIP-T46S 66.86.0.15', 'PolycomVVX-VVX_450-UA/6.4.3.0866',
                        'Z 5.6.1 v2.10.20.3', 'Grandstream GXP2170 1.0.11.23',
                        'Cisco/SPA504G-7.6.2c'])[1 + ((j / 5) % 5)::int] AS ua,
                 (ARRAY[300, 1800, 3600])[1 + (j % 3)::int] AS expires,
                 now() - make_interval(secs => (j % 3600)) AS last_at,
                 (substr(md5('uuid' || i), 1, 8) || '-' || substr(md5('uuid' || i), 9, 4) || '-4'
                   || substr(md5('uuid' || i), 14, 3) || '-a' || substr(md5('uuid' || i), 18, 3)
                   || '-' || substr(md5('uuid' || i), 21, 12)) AS uuid,
                 lpad(to_hex(i), 12, '0') AS mac
            FROM (
              SELECT i::bigint AS i, (i::bigint * 7919) % 1000003 AS j,
                     CASE WHEN i % ${BIG_EVERY} = 0 THEN 0 ELSE 1 + i % ${ACCOUNTS - 1} END AS acct
                FROM generate_series($1::int, $2::int) AS i
            ) g
        ) b
    ) c`;

/** Loads the data set unless it is already there; VACUUM ANALYZE afterwards. */
export async function ensureDataset(pool: Pool): Promise<{ loaded: boolean; seconds: number }> {
  const t0 = performance.now();
  const bigId = await bigAccountId(pool);
  if (await alreadyLoaded(pool, bigId)) {
    console.log(
      `data: already loaded (${TOTAL_BINDINGS.toLocaleString('en-US')} live bindings, ${ACCOUNTS} accounts, ${BIG_ACCOUNT_BINDINGS.toLocaleString('en-US')} in ${bigId})`,
    );
    return { loaded: false, seconds: 0 };
  }
  console.log('data: loading 1,000,000 bindings (a minute or two) …');
  await pool.query(
    `TRUNCATE registrations, registration_history, extensions, accounts, api_keys, auth_tokens
       RESTART IDENTITY CASCADE`,
  );
  await pool.query(
    `INSERT INTO accounts (id, name, realm)
     SELECT ${accountIdSql('n')}, 'Bench account ' || n,
            'acct' || lpad(n::text, 4, '0') || '.bench.example.net'
       FROM generate_series(0, ${ACCOUNTS - 1}) AS n`,
  );
  for (let from = 1; from <= TOTAL_BINDINGS; from += CHUNK) {
    const t = performance.now();
    await pool.query(INSERT_CHUNK, [from, Math.min(from + CHUNK - 1, TOTAL_BINDINGS)]);
    console.log(
      `  rows ${from.toLocaleString('en-US')}–${(from + CHUNK - 1).toLocaleString('en-US')} in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  // As autovacuum would after a bulk insert (done now so it does not run during the bench).
  await pool.query('VACUUM (ANALYZE) registrations');
  await pool.query('VACUUM (ANALYZE) accounts');
  await pool.query('CHECKPOINT');
  if (!(await alreadyLoaded(pool, bigId))) throw new Error('the data set is not as expected');
  const seconds = (performance.now() - t0) / 1000;
  console.log(`data: loaded in ${seconds.toFixed(0)} s`);
  return { loaded: true, seconds };
}
