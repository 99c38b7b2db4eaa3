// The operator's console in a real browser (Debian's Chromium through playwright-core) against
// the real API and ingest apps, Postgres and RabbitMQ: sign-in, the table filtered, a phone
// registering while the page is open, a flush from the page (a user, and one phone of a user),
// a check-sync without a flush, and tenants kept apart.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { accountIdFor, accountWithToken, ApiHarness, http, startApi } from '../support/api-harness';
import { historyOf, liveCount, waitForLive } from '../support/api-fixtures';
import { startIngest, Harness } from '../support/ingest-harness';
import { eventually } from '../support/poll';
import { buildConsole, kamailioRegister, launchChromium } from './console-harness';

jest.setTimeout(120_000);
/** Generous: a loaded 2-core machine runs eight test suites at once. */
const UI_TIMEOUT = 30_000;

let h: Harness | undefined;
let api: ApiHarness;
let browser: Browser | undefined;
let context: BrowserContext | undefined;

const A = { id: accountIdFor('console-a'), name: 'Acme Phones', realm: 'a.console-e2e.test' };
const B = { id: accountIdFor('console-b'), name: 'Beta Calls', realm: 'b.console-e2e.test' };
let aKey: string;
let aToken: string;
let bToken: string;
const YEALINK_MAC = '001565a1b2c3';

beforeAll(async () => {
  // Chromium first: when it is missing the suite fails at once, saying so.
  browser = await launchChromium();
  const consoleDir = buildConsole();
  h = await startIngest();
  api = await startApi({}, { consoleDir });
  const a = await accountWithToken(api, A);
  aKey = a.apiKey;
  aToken = a.token;
  bToken = (await accountWithToken(api, B)).token;
  await h.broker.publish([
    kamailioRegister({ ...A, accountId: A.id, username: 'alice', sourceIp: '192.0.2.11' }),
    kamailioRegister({
      ...A,
      accountId: A.id,
      username: 'alice',
      sourceIp: '192.0.2.12',
      userAgent: 'Zoiper rv2.10.20.1',
    }),
    kamailioRegister({
      ...A,
      accountId: A.id,
      username: 'bob',
      sourceIp: '192.0.2.13',
      contact: `<sip:bob@192.0.2.13:5060;transport=UDP>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-${YEALINK_MAC}>"`,
    }),
    kamailioRegister({ ...A, accountId: A.id, username: 'carol', sourceIp: '192.0.2.14' }),
    kamailioRegister({ ...B, accountId: B.id, username: 'mallory', sourceIp: '192.0.2.21' }),
    kamailioRegister({ ...B, accountId: B.id, username: 'trent', sourceIp: '192.0.2.22' }),
  ]);
  await waitForLive(h.pool, A.id, 4);
  await waitForLive(h.pool, B.id, 2);
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
}, 300_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await api?.close();
  await h?.stop();
}, 60_000);

async function signIn(secret: string): Promise<Page> {
  const page = await context!.newPage();
  page.setDefaultTimeout(UI_TIMEOUT);
  await page.goto(`${api.url}/console/`);
  await page.fill('#secret', secret);
  await page.click('button[type=submit]');
  await page.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
  return page;
}

const usersShown = (page: Page) =>
  page.$$eval('table.bindings tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-user')));

async function waitForUsers(page: Page, expected: string[]): Promise<void> {
  await eventually(
    async () => (await usersShown(page)).sort(),
    (u) => JSON.stringify(u) === JSON.stringify([...expected].sort()),
    { timeoutMs: UI_TIMEOUT, intervalMs: 100, what: `rows of ${expected.join(', ')}` },
  );
}

describe('the console, in Chromium', () => {
  it('is served at /console/ with index revalidated and hashed assets immutable', async () => {
    const index = await fetch(`${api.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    const html = await index.text();
    const asset = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(asset).toBeDefined();
    const js = await fetch(`${api.url}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${api.url}/console`, { redirect: 'manual' })).status).toBeLessThan(400);
  });

  it('signs in with an API key, keeps only the token in session storage, and lists the live bindings', async () => {
    const page = await signIn(aKey);
    await waitForUsers(page, ['alice', 'alice', 'bob', 'carol']);
    // (Strings: the page's globals, not typed in this Node project.)
    const storage = await page.evaluate(
      '({ session: Object.keys(sessionStorage), local: Object.keys(localStorage), cookies: document.cookie })',
    );
    expect(storage).toEqual({ session: ['registrations-console.token'], local: [], cookies: '' });
    const token = await page.evaluate("sessionStorage.getItem('registrations-console.token')");
    expect(token).not.toBe(aKey);
    await expect(page.locator('[data-testid=total]').textContent()).resolves.toBe('4');
    // MAC from the phone's instance id, shown as the ingest derived it.
    await expect(page.locator('tr[data-user=bob] td').nth(6).textContent()).resolves.toBe(
      YEALINK_MAC,
    );
    await page.close();
  });

  it('filters by user, MAC, source IP and user agent (the API filters; only matches are shown)', async () => {
    const page = await signIn(aToken);
    await waitForUsers(page, ['alice', 'alice', 'bob', 'carol']);
    const apply = async (name: string, value: string) => {
      await page.click('button:has-text("Clear")');
      await waitForUsers(page, ['alice', 'alice', 'bob', 'carol']);
      await page.fill(`input[name=filter-${name}]`, value);
      await page.press(`input[name=filter-${name}]`, 'Enter');
    };
    await apply('username', 'ALICE');
    await waitForUsers(page, ['alice', 'alice']);
    await apply('mac', '00:15:65:A1:B2:C3');
    await waitForUsers(page, ['bob']);
    await apply('ip', '192.0.2.14');
    await waitForUsers(page, ['carol']);
    await apply('user_agent', 'Zoiper rv2.10.20.1');
    await waitForUsers(page, ['alice']);
    await page.close();
  });

  it('shows a phone that registers while the page is open, without reloading', async () => {
    const page = await signIn(aToken);
    await waitForUsers(page, ['alice', 'alice', 'bob', 'carol']);
    await page.evaluate('window.marker = 42');
    await h!.broker.publish([
      kamailioRegister({ ...A, accountId: A.id, username: 'dave', sourceIp: '192.0.2.15' }),
    ]);
    await waitForUsers(page, ['alice', 'alice', 'bob', 'carol', 'dave']);
    await page.locator('[data-testid=total]', { hasText: '5' }).waitFor();
    // The same document: not reloaded.
    expect(await page.evaluate('window.marker')).toBe(42);
    await page.close();
  });

  it('flushes a user from the page after a confirmation naming it; the binding ends', async () => {
    const page = await signIn(aToken);
    await page.locator('tr[data-user=carol]').waitFor();
    await page.click('button[aria-label="Flush carol@a.console-e2e.test"]');
    const text = await page.locator('[data-testid=confirm-text]').textContent();
    expect(text).toContain('carol');
    expect(text).toContain('reg_flush');
    await page.click('[data-testid=confirm]');
    await page.locator('[data-testid=result]', { hasText: 'Flushed carol' }).waitFor();
    await eventually(
      async () => (await usersShown(page)).includes('carol'),
      (shown) => !shown,
      { timeoutMs: UI_TIMEOUT, what: 'carol gone from the table' },
    );
    const history = await historyOf(h!.pool, A.id);
    expect(history.filter((r) => r.username === 'carol').map((r) => r.end_reason)).toEqual([
      'flushed',
    ]);
    expect(await liveCount(h!.pool, B.id)).toBe(2);
    await page.close();
  });

  it('flushes one of two phones of a user from the page (keyboard); only that one disappears, then re-provisions the other without a flush', async () => {
    const desk = `<sip:erin@192.0.2.16:5060;transport=UDP>`;
    await h!.broker.publish([
      kamailioRegister({
        ...A,
        accountId: A.id,
        username: 'erin',
        sourceIp: '192.0.2.16',
        callId: 'console-erin-desk',
        contact: desk,
      }),
      kamailioRegister({
        ...A,
        accountId: A.id,
        username: 'erin',
        sourceIp: '192.0.2.17',
        callId: 'console-erin-soft',
      }),
    ]);
    const erinLive = async () =>
      (
        await h!.pool.query(
          `SELECT call_id FROM registrations WHERE account_id = $1 AND username = 'erin'
              AND ended_at IS NULL AND expires_at > now() ORDER BY call_id`,
          [A.id],
        )
      ).rows.map((r: { call_id: string }) => r.call_id);
    await eventually(erinLive, (c) => c.length === 2, {
      timeoutMs: UI_TIMEOUT,
      what: "erin's two phones live",
    });
    const page = await signIn(aToken);
    try {
      const erinRows = page.locator('tr[data-user=erin]');
      await eventually(
        () => erinRows.count(),
        (n) => n === 2,
        { timeoutMs: UI_TIMEOUT, intervalMs: 100, what: "erin's two rows" },
      );
      // From the keyboard: focus the row's button, Enter opens the confirmation.
      await page.focus(
        `button[aria-label="Flush this phone of erin@${A.realm}: sip:erin@192.0.2.16:5060;transport=UDP"]`,
      );
      await page.keyboard.press('Enter');
      const text = (await page.locator('[data-testid=confirm-text]').textContent()) ?? '';
      for (const part of [
        `erin@${A.realm}`,
        'sip:erin@192.0.2.16:5060;transport=UDP',
        'console-erin-desk',
        'Kamailio (proxy 198.51.100.1:5060)',
        'reg_flush',
        'other phones stay',
      ])
        expect(text).toContain(part);
      await page.click('[data-testid=confirm]');
      const result = page.locator('[data-testid=result]', { hasText: 'Flushed one phone of erin' });
      await result.waitFor();
      // What was published, as the API answered it: the reg_flush naming that contact.
      const shown = (await result.textContent()) ?? '';
      expect(shown).toContain('reg_flush Username=erin');
      expect(shown).toContain('Call-ID=console-erin-desk');
      await eventually(
        () => erinRows.count(),
        (n) => n === 1,
        { timeoutMs: UI_TIMEOUT, intervalMs: 100, what: 'one erin row left' },
      );
      expect(await erinRows.locator('td').nth(3).textContent()).toBe('192.0.2.17:5060');
      expect(await erinLive()).toEqual(['console-erin-soft']);
      const { rows } = await h!.pool.query(
        `SELECT call_id, end_reason FROM registration_history
          WHERE account_id = $1 AND username = 'erin'`,
        [A.id],
      );
      expect(rows).toEqual([{ call_id: 'console-erin-desk', end_reason: 'flushed' }]);

      // Re-provision (check-sync): named, sent, and nothing ends.
      await page.click(`button[aria-label="Re-provision (check-sync) erin@${A.realm}"]`);
      const syncText = (await page.locator('[data-testid=confirm-text]').textContent()) ?? '';
      expect(syncText).toContain(`erin@${A.realm}`);
      expect(syncText).toContain('check-sync');
      expect(syncText).toContain('Nothing is flushed');
      await page.click('[data-testid=confirm]');
      const synced = page.locator('[data-testid=result]', { hasText: 'Sent check-sync to erin' });
      await synced.waitFor();
      expect(await synced.textContent()).toContain('check-sync Username=erin');
      expect(await erinLive()).toEqual(['console-erin-soft']);
      expect(await erinRows.count()).toBe(1);
      expect(await liveCount(h!.pool, B.id)).toBe(2);
    } finally {
      await page.close();
    }
  });

  it("never shows tenant B's bindings to tenant A, even when asked for B's account", async () => {
    const page = await signIn(aToken);
    await page.locator('tr[data-user=alice]').first().waitFor();
    expect(await usersShown(page)).not.toEqual(expect.arrayContaining(['mallory']));
    const options = await page.$$eval('select[name=account] option', (os) =>
      os.map((o) => (o as unknown as { value: string }).value),
    );
    expect(options).toEqual([A.id]);
    await page.goto(`${api.url}/console/#/bindings?account=${B.id}`);
    await page.locator('[role=alert]', { hasText: 'forbidden' }).waitFor();
    expect(await usersShown(page)).toEqual([]);
    // And the endpoints the console reads refuse too.
    for (const path of [
      `/v2/console/accounts/${B.id}/bindings`,
      `/v2/accounts/${B.id}/registrations/changes/position`,
    ])
      expect((await http(api.url, 'GET', path, { token: aToken })).status).toBe(403);
    // B's own token sees B's.
    const pageB = await signIn(bToken);
    await waitForUsers(pageB, ['mallory', 'trent']);
    await pageB.close();
    await page.close();
  });

  it('is usable from the keyboard: sign-in, sorting, and a flush confirmation cancelled with Escape', async () => {
    const page = await context!.newPage();
    page.setDefaultTimeout(UI_TIMEOUT);
    try {
      await page.goto(`${api.url}/console/`);
      // The secret field has the focus on arrival; Enter submits.
      await page.waitForFunction(
        "document.activeElement && document.activeElement.id === 'secret'",
      );
      await page.keyboard.type(aToken);
      await page.keyboard.press('Enter');
      await page.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
      await page.locator('tr[data-user=bob]').waitFor();
      // Sort by user, descending: focus the header button, Enter twice.
      await page.focus('th button.sort >> text=User');
      await page.keyboard.press('Enter');
      await page.keyboard.press('Enter');
      await page.locator('th[aria-sort=descending]').waitFor();
      // The server sorts (a new first page comes): wait for it, then the order.
      await page.locator('table.bindings[aria-busy=false]').waitFor();
      await eventually(
        () => usersShown(page),
        (users) => users.length >= 4 && users[0] !== 'alice',
        { timeoutMs: UI_TIMEOUT, intervalMs: 100, what: 'the rows by user, descending' },
      );
      const users = await usersShown(page);
      expect(users).toEqual([...users].sort().reverse());
      await page.focus('button[aria-label="Flush bob@a.console-e2e.test"]');
      await page.keyboard.press('Enter');
      await page.locator('[data-testid=confirm-text]').waitFor();
      await page.keyboard.press('Escape');
      await page.locator('dialog.confirm').waitFor({ state: 'detached' });
      expect(await liveCount(h!.pool, A.id)).toBeGreaterThanOrEqual(4);
    } finally {
      await page.close();
    }
  });

  it('fits a phone-sized screen: the page does not scroll sideways (the table scrolls in its box)', async () => {
    const phone = await browser!.newContext({ viewport: { width: 390, height: 844 } });
    try {
      const page = await phone.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await page.goto(`${api.url}/console/`);
      await page.fill('#secret', aToken);
      await page.click('button[type=submit]');
      await page.locator('tr[data-user=alice]').first().waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
      expect(await page.locator('tr[data-user=alice] td').first().isVisible()).toBe(true);
    } finally {
      await phone.close();
    }
  });

  it('returns to sign-in when the token stops being accepted (401)', async () => {
    const page = await signIn(aToken);
    await h!.pool.query(`UPDATE auth_tokens SET expires_at = now() - interval '1 second'`);
    // Tokens are cached for a few seconds by the API: reload until the 401 comes.
    await eventually(
      async () => {
        await page.reload();
        return page
          .locator('#secret')
          .isVisible({ timeout: 2_000 })
          .catch(() => false);
      },
      (v) => v,
      { timeoutMs: UI_TIMEOUT, intervalMs: 500, what: 'the sign-in form after a 401' },
    );
    expect(await page.evaluate('Object.keys(sessionStorage)')).toEqual([]);
    await page.close();
  });
});
