// The console's aggregate endpoints (…/registrations/stats/*, computed in SQL) against bindings
// with known times, and the charts view drawing those numbers in Chromium.
import type { Browser, Page } from 'playwright-core';
import { accountIdFor, accountWithToken, ApiHarness, http, startApi } from '../support/api-harness';
import { waitForLive } from '../support/api-fixtures';
import { startIngest, Harness } from '../support/ingest-harness';
import { eventually } from '../support/poll';
import { buildConsole, kamailioRegister, launchChromium } from './console-harness';

jest.setTimeout(120_000);

let h: Harness | undefined;
let api: ApiHarness;
let browser: Browser | undefined;

const S = { id: accountIdFor('console-stats'), name: 'Stats Co', realm: 's.console-e2e.test' };
const OTHER = {
  id: accountIdFor('console-stats-other'),
  name: 'Other',
  realm: 'o.console-e2e.test',
};
let token: string;
let otherToken: string;

// Whole seconds, well inside the last hour: p1 and p2 register 20 minutes ago, p2 unregisters
// 10 minutes ago, p3 registers 5 minutes ago. (Each time is what the proxy event says.)
const now = Math.floor(Date.now() / 1000);
const T1 = now - 20 * 60 - 7;
const T2 = now - 10 * 60 - 7;
const T3 = now - 5 * 60 - 7;
const YEALINK = 'Yealink SIP-T46S 66.86.0.15';
const segments = [
  { s: T1, e: undefined },
  { s: T1, e: T2 },
  { s: T3, e: undefined },
];
const liveAt = (t: number) =>
  segments.filter((g) => g.s <= t && (g.e === undefined || g.e > t)).length;
const minuteOf = (t: number) => t - (t % 60);

beforeAll(async () => {
  browser = await launchChromium();
  const consoleDir = buildConsole('console-stats-e2e');
  h = await startIngest();
  api = await startApi({}, { consoleDir });
  token = (await accountWithToken(api, S)).token;
  otherToken = (await accountWithToken(api, OTHER)).token;
  const p = (username: string, ts: number, extra: object = {}) =>
    kamailioRegister({ ...S, accountId: S.id, username, ts, expires: 3600, ...extra });
  await h.broker.publish([
    p('p1', T1, { userAgent: YEALINK }),
    p('p2', T1, { userAgent: 'Zoiper rv2.10.20.1', callId: 'p2-call' }),
    p('p3', T3, { userAgent: YEALINK }),
  ]);
  await waitForLive(h.pool, S.id, 3);
  await h.broker.publish([
    p('p2', T2, { userAgent: 'Zoiper rv2.10.20.1', callId: 'p2-call', expires: 0 }),
  ]);
  await waitForLive(h.pool, S.id, 2);
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await api?.close();
  await h?.stop();
}, 60_000);

const STATS = (id: string) => `/v2/accounts/${id}/registrations/stats`;

describe('GET …/registrations/stats/*', () => {
  it('live: the bindings live at each minute boundary of the last hour', async () => {
    const res = await http(api.url, 'GET', `${STATS(S.id)}/live?window=hour`, { token });
    expect(res.status).toBe(200);
    const points: { t: number; live: number }[] = res.json.data;
    expect(points).toHaveLength(60);
    for (let i = 1; i < points.length; i++) expect(points[i].t - points[i - 1].t).toBe(60);
    // Each point as defined: started at or before t, not ended at t.
    expect(points.map((p) => p.live)).toEqual(points.map((p) => liveAt(p.t)));
    expect(points.map((p) => p.live)).toEqual(expect.arrayContaining([0, 1, 2]));
    expect(points[points.length - 1].live).toBe(2);
  });

  it('activity: registrations and ends per minute, by reason', async () => {
    const res = await http(api.url, 'GET', `${STATS(S.id)}/activity`, { token });
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual([
      { t: minuteOf(T1), registered: 2, unregistered: 0, expired: 0, flushed: 0, replaced: 0 },
      { t: minuteOf(T2), registered: 0, unregistered: 1, expired: 0, flushed: 0, replaced: 0 },
      { t: minuteOf(T3), registered: 1, unregistered: 0, expired: 0, flushed: 0, replaced: 0 },
    ]);
  });

  it("user-agents: the live bindings' agents, most common first", async () => {
    const res = await http(api.url, 'GET', `${STATS(S.id)}/user-agents`, { token });
    expect(res.status).toBe(200);
    expect(res.json.data).toEqual({ total: 2, user_agents: [{ user_agent: YEALINK, count: 2 }] });
  });

  it('a day and a week are per minute too; a bad window is a 400; another tenant is a 403', async () => {
    const day = await http(api.url, 'GET', `${STATS(S.id)}/live?window=day`, { token });
    expect(day.json.data).toHaveLength(1440);
    const week = await http(api.url, 'GET', `${STATS(S.id)}/live?window=week`, { token });
    expect(week.json.data).toHaveLength(10080);
    const bad = await http(api.url, 'GET', `${STATS(S.id)}/live?window=year`, { token });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.json.data)).toEqual(['window']);
    for (const path of ['live', 'activity', 'user-agents'])
      expect(
        (await http(api.url, 'GET', `${STATS(S.id)}/${path}`, { token: otherToken })).status,
      ).toBe(403);
  });

  it('is documented in the OpenAPI', async () => {
    const res = await http(api.url, 'GET', '/openapi.json');
    const paths = Object.keys(res.json.paths);
    for (const p of ['live', 'activity', 'user-agents'])
      expect(paths).toContain(`/v2/accounts/{accountId}/registrations/stats/${p}`);
  });
});

describe('the charts view, in Chromium', () => {
  it('draws the numbers the endpoints computed', async () => {
    const page: Page = await browser!.newPage();
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(`${api.url}/console/`);
      await page.fill('#secret', token);
      await page.click('button[type=submit]');
      await page.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
      await page.click('nav >> text=Charts');
      const text = async (id: string) =>
        (await page.locator(`[data-testid=${id}]`).textContent())?.trim();
      await page.locator('[data-testid=live-latest]').waitFor();
      expect(await text('live-latest')).toBe('2');
      expect(await text('live-max')).toBe('2');
      expect(await text('activity-registered')).toBe('3');
      expect(await text('activity-unregistered')).toBe('1');
      expect(await text('activity-flushed')).toBe('0');
      const agents = await page.evaluate(
        `Array.from(document.querySelectorAll('table.agents tbody tr'))
           .map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent))`,
      );
      expect(agents).toEqual([['Yealink SIP-T46S', '66.86.0.15', '2', '']]);
      // One user's timeline: the ended segment with its reason, and the live one.
      await page.goto(`${api.url}/console/#/timeline?account=${S.id}&user=p2`);
      await eventually(
        () =>
          page.$$eval('table.segments tbody tr', (trs) =>
            trs.map((t) => t.getAttribute('data-reason')),
          ),
        (r) => JSON.stringify(r) === JSON.stringify(['unregistered']),
        { timeoutMs: 30_000, what: "p2's timeline" },
      );
    } finally {
      await page.close();
    }
  });
});
