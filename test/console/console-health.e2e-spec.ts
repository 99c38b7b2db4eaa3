// The console's ingest health panel: GET /v2/console/health against the real ingest app
// (its /readyz and /metrics, reached through INGEST_URL) and the real broker's queues, and the
// view showing it in Chromium.
import * as amqp from 'amqplib';
import type { Browser } from 'playwright-core';
import { keys } from '@app/messaging';
import { accountIdFor, accountWithToken, ApiHarness, http, startApi } from '../support/api-harness';
import { waitForLive } from '../support/api-fixtures';
import { topology } from '@app/messaging';
import { startIngest, Harness } from '../support/ingest-harness';
import { TEST_AMQP_URL } from '../support/test-env';
import { eventually } from '../support/poll';
import { buildConsole, kamailioRegister, launchChromium } from './console-harness';

jest.setTimeout(120_000);

let h: Harness | undefined;
let api: ApiHarness;
let browser: Browser | undefined;
const H = { id: accountIdFor('console-health'), name: 'Health Co', realm: 'h.console-e2e.test' };
let token: string;
// Queues of its own: the counts checked are this ingest app's, whatever other consumers of the
// test vhost's `regtest.*` queues (a suite that failed to close its app) may take.
const PREFIX = 'regtest-console-health';
const Q = topology({ kazooExchangeDurable: false, queuePrefix: PREFIX });

interface Health {
  database: string;
  broker: string;
  ingest: { status: string; broker?: string };
  events_total: number | null;
  dead_lettered_total: number | null;
  queues: { name: string; messages: number | null; consumers: number | null }[];
}

beforeAll(async () => {
  browser = await launchChromium();
  const consoleDir = buildConsole('console-health-e2e');
  // Fresh queues (a durable queue left bound to `registrar` collects other suites' messages).
  await deleteQueues();
  h = await startIngest({ QUEUE_PREFIX: PREFIX });
  api = await startApi(
    { QUEUE_PREFIX: PREFIX, INGEST_URL: h.ingest.url.replace('[::1]', '127.0.0.1') },
    { consoleDir },
  );
  token = (await accountWithToken(api, H)).token;
  await h.broker.publish([
    kamailioRegister({ ...H, accountId: H.id, username: 'h1' }),
    kamailioRegister({ ...H, accountId: H.id, username: 'h2' }),
    // Not JSON: dead-lettered by the ingest app.
    { exchange: 'registrar', routingKey: keys.regSuccess(H.realm, 'x'), body: Buffer.from('{') },
  ]);
  await waitForLive(h.pool, H.id, 2);
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await api?.close();
  await h?.stop();
  await deleteQueues();
}, 60_000);

async function deleteQueues(): Promise<void> {
  const conn = await amqp.connect(TEST_AMQP_URL);
  try {
    for (const q of [Q.kazooQueue, Q.freeswitchQueue, Q.deadLetterQueue]) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteQueue(q.name).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close();
  }
}

const read = async (): Promise<Health> => {
  const res = await http(api.url, 'GET', '/v2/console/health', { token });
  expect(res.status).toBe(200);
  return res.json.data as Health;
};

it('reports the database, the ingest app, events consumed, dead letters and the queues', async () => {
  const health = await eventually(read, (x) => (x.dead_lettered_total ?? 0) >= 1, {
    timeoutMs: 30_000,
    what: 'the dead letter counted',
  });
  expect(health).toMatchObject({
    database: 'ok',
    broker: 'ok',
    ingest: { status: 'ok', broker: 'ok' },
    dead_lettered_total: 1,
  });
  expect(health.events_total).toBeGreaterThanOrEqual(2);
  const byName = Object.fromEntries(health.queues.map((q) => [q.name, q]));
  expect(byName[Q.kazooQueue.name].consumers).toBeGreaterThanOrEqual(1);
  expect(byName[Q.deadLetterQueue.name].messages).toBe(1);
});

it('answers 401 without a token, and says so when the ingest app cannot be reached', async () => {
  expect((await http(api.url, 'GET', '/v2/console/health')).status).toBe(401);
  const lone = await startApi({ INGEST_URL: 'http://127.0.0.1:9' });
  try {
    const res = await http(lone.url, 'GET', '/v2/console/health', { token });
    expect(res.status).toBe(200);
    expect(res.json.data.ingest.status).toMatch(/^unreachable/);
    expect(res.json.data.events_total).toBeNull();
    expect(res.json.data.database).toBe('ok');
  } finally {
    await lone.close();
  }
});

it('is shown by the health view', async () => {
  const page = await browser!.newPage();
  page.setDefaultTimeout(30_000);
  try {
    await page.goto(`${api.url}/console/`);
    await page.fill('#secret', token);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
    await page.click('nav >> text=Health');
    await page.locator('[data-testid=health-database]', { hasText: 'ok' }).waitFor();
    await page.locator('[data-testid=health-ingest]', { hasText: 'ok' }).waitFor();
    await page.locator('[data-testid=health-broker]', { hasText: 'ok' }).waitFor();
    await page.locator('[data-testid=health-dead-letters]', { hasText: '1' }).waitFor();
  } finally {
    await page.close();
  }
});
