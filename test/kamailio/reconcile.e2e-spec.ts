// Events lost, then reconciled with the real Kamailio: the ingest is stopped, phones (sipp)
// register and unregister meanwhile, the ingest's queue is purged, and a reconciliation
// (reg_sync answered by our Kamailio config's adaptation of kazoo-configs-kamailio
// registrar-sync-role.cfg) makes the product's table equal Kamailio's usrloc exactly: at ingest
// start (RECONCILE_ON_START) and through POST /v2/registrations/reconcile (super-admin only).
// RECONCILE_E2E_PHONES sets the size (default 300; the 10,000-phone figure: bench:reconcile).
import type { Pool } from 'pg';
import { CredentialStore, AccountStore } from '@app/persistence';
import { raceCutoffUs } from '@app/registrations';
import { T } from '../support/amqp';
import { startIngestApp } from '../support/apps';
import { freeswitch } from '../support/messages';
import { eventually } from '../support/poll';
import { TEST_DATABASE_URL, testConfig } from '../support/test-env';
import { makePhones, Phone } from '../sipp/make-phones';
import { runSipp } from '../sipp/sipp';
import { findFreePort, KamailioHandle } from './kamailio-harness';
import { KazooStack, md5, startKazooStack } from './kazoo-stack';

const PHONES = Number(process.env.RECONCILE_E2E_PHONES ?? 300);
const EXTRA = Math.ceil(PHONES / 5);
const REALMS = 3;
// A loaded machine may take a while to list the proxy's table before its first answer.
const ENV = { RECONCILE_FIRST_ANSWER_MS: '20000' };

let s: KazooStack;
let phones: Phone[];
let sippPort: number;
let cseq = 1;

beforeAll(async () => {
  s = await startKazooStack([1, 2, 3], { usrlocDb: TEST_DATABASE_URL }, ENV);
  phones = makePhones({ count: PHONES + EXTRA, realms: REALMS, domain: s.domain });
  sippPort = await findFreePort();
}, 120_000);
afterAll(async () => {
  await s?.stop();
});

async function sipp(scenario: 'register' | 'unregister', from: number, to: number) {
  const r = await runSipp({
    scenario,
    phones,
    only: (_p, i) => i >= from && i < to,
    port: s.kam.sipPort,
    localPort: sippPort,
    rate: 1000,
    cseq: cseq++,
  });
  expect({ failed: r.failed, selected: r.selected }).toEqual({ failed: 0, selected: to - from });
}

/** Every live binding as "user@realm contact call-id": the product's, and Kamailio's usrloc. */
async function productBindings(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ b: string }>(
    `SELECT username || '@' || realm || ' ' || contact_uri || ' ' || call_id AS b FROM registrations
      WHERE ended_at IS NULL AND expires_at > now() AND origin = 'kazoo' ORDER BY 1`,
  );
  return rows.map((r) => r.b);
}
async function kamailioBindings(kam: KamailioHandle): Promise<string[]> {
  const out: string[] = [];
  for (const [aor, contacts] of await kam.dump())
    for (const c of contacts) out.push(`${aor} ${c.Address} ${c['Call-ID']}`);
  return out.sort();
}

/**
 * A reconciliation leaves alone every row written within the second before its reg_sync (the
 * race rule, raceCutoffUs): on this fast path the losses below come less than two seconds after
 * the table's last write, so wait until the table's last event is out of that window, as it is
 * in life (a loss is noticed, the ingest restarted, seconds later).
 */
async function pastRaceWindow(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ last: number }>(
    `SELECT coalesce(max(event_us), 0)::float8 AS last FROM registrations`,
  );
  await eventually(
    async () => raceCutoffUs(Date.now() * 1000),
    (cutoff) => cutoff > rows[0].last,
    { what: "the table's last write to leave the race window", timeoutMs: 5000 },
  );
}

/** Stops the ingest, lets `meanwhile` happen, purges its queue (the events are lost). */
async function loseEvents(meanwhile: () => Promise<void>): Promise<void> {
  await s.ingest.ingest.app.close();
  await meanwhile();
  await eventually(
    () => s.ingest.broker.queueDepth(T.kazooQueue.name),
    (n) => n > 0,
    { what: 'the lost events in the queue' },
  );
  await s.ingest.broker.purge();
  expect(await s.ingest.broker.queueDepth(T.kazooQueue.name)).toBe(0);
  await pastRaceWindow(s.ingest.pool);
}

async function endReasons(pool: Pool): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ username: string; end_reason: string }>(
    `SELECT username, end_reason FROM registration_history`,
  );
  return new Map(rows.map((r) => [r.username, r.end_reason]));
}

it('repairs at ingest start what was lost while the ingest was away', async () => {
  await sipp('register', 0, PHONES);
  await eventually(
    async () => (await productBindings(s.ingest.pool)).length,
    (n) => n === PHONES,
    { what: 'every phone in the table', timeoutMs: 30_000 },
  );
  // A FreeSWITCH binding: no Kamailio sync may end it.
  await s.ingest.broker.publish([
    freeswitch({
      subclass: 'sofia::register',
      realm: phones[0].realm,
      username: 'fs-phone',
      us: Date.now() * 1000,
    }),
  ]);
  await eventually(
    () => s.ingest.pool.query(`SELECT 1 FROM registrations WHERE origin = 'freeswitch'`),
    (r) => r.rowCount === 1,
    { what: 'the FreeSWITCH binding' },
  );

  // Meanwhile: the first fifth unregister, EXTRA new phones register.
  await loseEvents(async () => {
    await sipp('unregister', 0, EXTRA);
    await sipp('register', PHONES, PHONES + EXTRA);
  });
  const kamailio = await kamailioBindings(s.kam);
  expect(kamailio).toHaveLength(PHONES);
  expect(await productBindings(s.ingest.pool)).not.toEqual(kamailio); // the loss shows

  s.ingest.ingest = await startIngestApp(testConfig({ ...ENV, RECONCILE_ON_START: 'true' }));
  await eventually(
    () => productBindings(s.ingest.pool),
    (b) => JSON.stringify(b) === JSON.stringify(kamailio),
    { what: "the table to equal Kamailio's", timeoutMs: 30_000 },
  );
  // Ended with reason `reconciled` (history and change feed), the new ones registered.
  const reasons = await endReasons(s.ingest.pool);
  for (const p of phones.slice(0, EXTRA)) expect(reasons.get(p.username)).toBe('reconciled');
  const { rows } = await s.ingest.pool.query<{ change: string; n: number }>(
    `SELECT change, count(*)::int AS n FROM registration_changes
      WHERE realm LIKE $1 GROUP BY change`,
    [`%.${s.domain}`],
  );
  const changes = Object.fromEntries(rows.map((r) => [r.change, r.n]));
  expect(changes.reconciled).toBe(EXTRA);
  expect(changes.registered).toBe(PHONES + EXTRA + 1); // + the FreeSWITCH phone
  // The FreeSWITCH binding is still live.
  const fs = await s.ingest.pool.query(
    `SELECT 1 FROM registrations WHERE origin = 'freeswitch' AND ended_at IS NULL`,
  );
  expect(fs.rowCount).toBe(1);
}, 180_000);

it('reconciles on demand through POST /v2/registrations/reconcile (super-admin only)', async () => {
  // A plain account's token: 403 forbidden, nothing published.
  const accounts = s.api.app.get(AccountStore);
  const plain = await accounts.createOrAdopt({
    id: md5(`plain:${s.domain}`),
    name: 'Plain',
    realm: `plain.${s.domain}`,
  });
  const key = await s.api.app.get(CredentialStore).createApiKey(plain.id);
  const login = await fetch(`${s.apiUrl}/v2/api_auth`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: { api_key: key } }),
  });
  const plainToken = ((await login.json()) as { auth_token: string }).auth_token;
  const post = (token: string) =>
    fetch(`${s.apiUrl}/v2/registrations/reconcile`, {
      method: 'POST',
      headers: { 'x-auth-token': token },
    });
  const denied = await post(plainToken);
  expect(denied.status).toBe(403);
  expect(await denied.json()).toMatchObject({ error: '403', message: 'forbidden' });

  // Lost: the second fifth unregisters, the first fifth registers again.
  await loseEvents(async () => {
    await sipp('unregister', EXTRA, 2 * EXTRA);
    await sipp('register', 0, EXTRA);
  });
  s.ingest.ingest = await startIngestApp(testConfig(ENV));
  const kamailio = await kamailioBindings(s.kam);
  expect(kamailio).toHaveLength(PHONES);

  const res = await post(s.token);
  expect(res.status).toBe(200);
  const { data } = (await res.json()) as { data: Record<string, unknown> };
  expect(data).toMatchObject({
    proxies: [s.kam.node],
    held: PHONES,
    added: EXTRA,
    ended: EXTRA,
    rejected: 0,
  });
  // Equal as soon as the call answers.
  expect(await productBindings(s.ingest.pool)).toEqual(kamailio);
}, 180_000);
