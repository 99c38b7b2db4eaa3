// Sorting the console's list on the server: every binding that matches the filters in the order
// asked for, paged by a keyset (GET /v2/console/accounts/{id}/bindings?sort=&order=), and the
// table in Chromium showing the globally right first page and continuing in order.
import type { Browser, Page } from 'playwright-core';
import { SORT_KEYS } from '@app/persistence';
import { accountIdFor, accountWithToken, ApiHarness, http, startApi } from '../support/api-harness';
import { waitForLive } from '../support/api-fixtures';
import { startIngest, Harness } from '../support/ingest-harness';
import { eventually } from '../support/poll';
import { buildConsole, kamailioRegister, launchChromium } from './console-harness';

jest.setTimeout(180_000);
const UI_TIMEOUT = 30_000;

let h: Harness | undefined;
let api: ApiHarness;
let browser: Browser | undefined;
let token: string;

const A = { id: accountIdFor('console-sort'), name: 'Sort Co', realm: 'sort.console-e2e.test' };
const N = 130;
const pad = (i: number) => String(i).padStart(3, '0');
// User order and user-agent order are opposite: the first page by user (what the API lists
// without a sort) holds none of the first 50 by user agent. Digits only: every collation agrees.
const phones = Array.from({ length: N }, (_, i) => ({
  username: `u${pad(i)}`,
  userAgent: `Agent-${pad(999 - i)}`,
  sourceIp: `192.0.2.${i % 10}`,
  ts: Math.floor(Date.now() / 1000) - 3 * i - 5,
}));

beforeAll(async () => {
  browser = await launchChromium();
  const consoleDir = buildConsole('console-sort-e2e');
  h = await startIngest();
  api = await startApi({}, { consoleDir });
  token = (await accountWithToken(api, A)).token;
  await h.broker.publish(
    phones.map((p) => kamailioRegister({ ...A, accountId: A.id, ...p, expires: 3600 })),
  );
  await waitForLive(h.pool, A.id, N);
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await api?.close();
  await h?.stop();
}, 60_000);

const bindings = (query: string) =>
  http(api.url, 'GET', `/v2/console/accounts/${A.id}/bindings?${query}`, { token });

/** Every page of a sort, followed by next_start_key: the ids in the order the pages gave them. */
async function allPages(sort: string, order: string, pageSize: number): Promise<number[]> {
  const ids: number[] = [];
  let startKey: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const q = new URLSearchParams({ sort, order, page_size: String(pageSize) });
    if (startKey) q.set('start_key', startKey);
    const res = await bindings(q.toString());
    expect(res.status).toBe(200);
    const json = res.json as { data: { id: number }[]; next_start_key?: string };
    ids.push(...json.data.map((b) => b.id));
    startKey = json.next_start_key;
    if (!startKey) return ids;
  }
  throw new Error('more than 100 pages');
}

describe('GET /v2/console/accounts/{id}/bindings?sort=&order=', () => {
  it('pages through every binding exactly once, in order, for every sort key both ways', async () => {
    const byUa = phones.map((p) => p.username).reverse();
    const usersOf = async (ids: number[]) => {
      const r = await h!.pool.query<{ id: number; username: string }>(
        `SELECT id::float8 AS id, username FROM registrations WHERE id = ANY($1::bigint[])`,
        [ids],
      );
      const m = new Map(r.rows.map((x) => [x.id, x.username]));
      return ids.map((id) => m.get(id));
    };
    for (const key of SORT_KEYS)
      for (const order of ['asc', 'desc']) {
        const ids = await allPages(key, order, 40);
        expect(ids).toHaveLength(N);
        expect(new Set(ids).size).toBe(N);
        if (key === 'user_agent')
          expect(await usersOf(ids)).toEqual(order === 'asc' ? byUa : [...byUa].reverse());
        if (key === 'username' || key === 'registered_since') {
          // Registered earlier the higher the number (ts above); users in name order.
          const names = phones.map((p) => p.username);
          const want = key === 'username' ? names : [...names].reverse();
          expect(await usersOf(ids)).toEqual(order === 'asc' ? want : [...want].reverse());
        }
      }
  });

  it('sorts only what the filters select', async () => {
    const ip = phones[3].sourceIp;
    const want = phones.filter((p) => p.sourceIp === ip).map((p) => p.username);
    const res = await bindings(`sort=user_agent&order=desc&filter_source_ip=${ip}`);
    expect((res.json as { data: { username: string }[] }).data.map((b) => b.username)).toEqual(
      want,
    );
  });

  it('refuses a bad sort, order or start_key with a 400 in the envelope of the route', async () => {
    const bad = await bindings('sort=password');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      status: 'error',
      error: '400',
      message: 'validation error',
      data: { sort: { enum: { message: expect.stringContaining('user_agent') } } },
    });
    expect((await bindings('sort=expires&order=sideways')).json).toMatchObject({
      data: { order: { enum: {} } },
    });
    expect((await bindings('order=desc')).status).toBe(400);
    const first = await bindings('sort=user_agent&page_size=5');
    const next = (first.json as { next_start_key: string }).next_start_key;
    const other = await bindings(`sort=expires&page_size=5&start_key=${next}`);
    expect(other.status).toBe(400);
    expect(other.json).toMatchObject({ data: { start_key: { format: {} } } });
  });

  it('searches users by the start of their name and user agents by a part, without case', async () => {
    const users = async (query: string) =>
      ((await bindings(query)).json as { data: { username: string }[] }).data.map(
        (b) => b.username,
      );
    const range = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => `u${pad(from + i)}`);
    expect(await users('search_username=U12')).toEqual(range(120, 10));
    // Agent-990 … Agent-999 are u009 … u000.
    expect(await users('search_user_agent=ENT-99&sort=user_agent')).toEqual(range(0, 10).reverse());
    expect(await users('search_username=u0&search_user_agent=nt-99')).toEqual(range(0, 10));
    expect(await users('search_username=12')).toEqual([]);
    const empty = await bindings('search_username=');
    expect(empty.status).toBe(400);
    expect(empty.json).toMatchObject({ data: { search_username: { format: {} } } });
  });

  it('is documented in the OpenAPI: sort (with its keys), order and the searches', async () => {
    const doc = (await http(api.url, 'GET', '/openapi.json')).json as {
      paths: Record<
        string,
        { get: { parameters: { name: string; schema?: { enum?: string[] } }[] } }
      >;
    };
    const params = doc.paths['/v2/console/accounts/{accountId}/bindings'].get.parameters;
    const byName = new Map(params.map((p) => [p.name, p]));
    expect(byName.get('sort')?.schema?.enum).toEqual([...SORT_KEYS]);
    expect(byName.get('order')?.schema?.enum).toEqual(['asc', 'desc']);
    expect(byName.has('search_username')).toBe(true);
    expect(byName.has('search_user_agent')).toBe(true);
  });

  it('leaves the Kazoo list as it was: sort is not one of its parameters', async () => {
    const kazoo = await http(
      api.url,
      'GET',
      `/v2/accounts/${A.id}/registrations?page_size=3&sort=user_agent&order=desc`,
      { token },
    );
    expect(kazoo.status).toBe(200);
    expect((kazoo.json as { data: { username: string }[] }).data.map((b) => b.username)).toEqual([
      'u000',
      'u001',
      'u002',
    ]);
  });
});

describe('sorting the table, in Chromium', () => {
  const agentsShown = (page: Page) =>
    page.$$eval('table.bindings tbody td.agent', (tds) => tds.map((td) => td.textContent ?? ''));

  async function waitForAgents(page: Page, expected: string[], what: string) {
    await eventually(
      () => agentsShown(page),
      (shown) => JSON.stringify(shown) === JSON.stringify(expected),
      { timeoutMs: UI_TIMEOUT, intervalMs: 100, what },
    );
  }

  it('shows the globally first page of a column and pages on in order, both ways', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(UI_TIMEOUT);
    try {
      await page.goto(`${api.url}/console/`);
      await page.fill('#secret', token);
      await page.click('button[type=submit]');
      await page.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
      const agents = phones.map((p) => p.userAgent);
      // Unsorted: the API's order (users u000…u049), i.e. the highest agents.
      await waitForAgents(page, agents.slice(0, 50), 'the first page by user');
      const ascending = [...agents].sort();
      await page.click('th >> button.sort:has-text("User agent")');
      await waitForAgents(page, ascending.slice(0, 50), 'the first 50 agents of all 130');
      expect(await page.locator('th[aria-sort=ascending]').textContent()).toContain('User agent');
      await page.click('button:has-text("Load 50 more")');
      await waitForAgents(page, ascending.slice(0, 100), 'the next 50 in order');
      await page.click('button:has-text("Load 50 more")');
      await waitForAgents(page, ascending, 'every agent, in order');
      await page.click('th >> button.sort:has-text("User agent")');
      await waitForAgents(page, [...ascending].reverse().slice(0, 50), 'the last 50, descending');
      expect(await page.locator('th[aria-sort=descending]').textContent()).toContain('User agent');
      // Partial matches: users starting with "u12", still sorted by user agent, descending.
      await page.check('input[name=filter-partial]');
      await page.fill('input[name=filter-username]', 'u12');
      await page.press('input[name=filter-username]', 'Enter');
      await waitForAgents(
        page,
        phones
          .slice(120)
          .map((p) => p.userAgent)
          .sort()
          .reverse(),
        'the agents of u120…u129, descending',
      );
    } finally {
      await page.close();
    }
  });
});
