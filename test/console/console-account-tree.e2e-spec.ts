// The console over an account tree: the charts of an account count its sub-accounts' bindings
// (never a sibling's or another tenant's), and an operator signs in with a Kazoo token (an
// RS256 JWT as kz_auth_jwt encodes it, test/support/kazoo-jwt-token.ts) and sees the account's
// phones and the tree's charts in Chromium.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { accountIdFor, accountWithToken, ApiHarness, http, startApi } from '../support/api-harness';
import { waitForLive } from '../support/api-fixtures';
import { startIngest, Harness } from '../support/ingest-harness';
import { claimsFor, kazooJwt } from '../support/kazoo-jwt-token';
import { eventually } from '../support/poll';
import { buildConsole, kamailioRegister, launchChromium } from './console-harness';

jest.setTimeout(120_000);

const acct = (label: string, parentId?: string) => ({
  id: accountIdFor(`console-tree-${label}`),
  name: `Tree ${label}`,
  realm: `${label}.tree.console-e2e.test`,
  parentId,
});
// ROOT ─┬─ PARENT ── CHILD
//       └─ SIBLING            OTHER (another tenant)
const ROOT = acct('root');
const PARENT = acct('parent', ROOT.id);
const CHILD = acct('child', PARENT.id);
const SIBLING = acct('sibling', ROOT.id);
const OTHER = acct('other');
const tokens: Record<string, string> = {};

const YEALINK = 'Yealink SIP-T46S 66.86.0.15';
const GRANDSTREAM = 'Grandstream GXP2170 1.0.11.3';
const POLYCOM = 'PolycomVVX-VVX_450-UA/6.4.3.0866';
// Minutes ago (whole seconds, as the proxy stamps them): the live chart counts a binding at a
// minute boundary it started before, so the newest point (this minute's start) includes them.
const REGISTERED = Math.floor(Date.now() / 1000) - 5 * 60 - 7;
const UNREGISTERED = REGISTERED + 120;
const KID = randomBytes(16).toString('hex');
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });

let dir: string | undefined;
let h: Harness | undefined;
let api: ApiHarness;
let browser: Browser | undefined;

beforeAll(async () => {
  browser = await launchChromium();
  const consoleDir = buildConsole('console-tree-e2e');
  dir = mkdtempSync(join(tmpdir(), 'console-tree-jwt-'));
  writeFileSync(join(dir, `${KID}.pem`), keys.publicKey.export({ type: 'pkcs1', format: 'pem' }));
  h = await startIngest();
  api = await startApi({ KAZOO_JWT_PUBLIC_KEYS: join(dir, `${KID}.pem`) }, { consoleDir });
  for (const a of [ROOT, PARENT, CHILD, SIBLING, OTHER])
    tokens[a.id] = (await accountWithToken(api, a)).token;
  const phone = (a: typeof ROOT, username: string, userAgent: string, extra: object = {}) =>
    kamailioRegister({
      ...a,
      accountId: a.id,
      username,
      userAgent,
      expires: 3600,
      ts: REGISTERED,
      ...extra,
    });
  await h.broker.publish([
    phone(PARENT, 'p1', YEALINK),
    phone(CHILD, 'c1', GRANDSTREAM),
    phone(CHILD, 'c2', GRANDSTREAM),
    phone(CHILD, 'c3', GRANDSTREAM, { callId: 'tree-c3' }),
    phone(SIBLING, 's1', POLYCOM),
    phone(OTHER, 'o1', POLYCOM),
    phone(OTHER, 'o2', POLYCOM),
  ]);
  await waitForLive(h.pool, CHILD.id, 3);
  await waitForLive(h.pool, OTHER.id, 2);
  // c3 unregisters: one end in the child account.
  await h.broker.publish([
    phone(CHILD, 'c3', GRANDSTREAM, { callId: 'tree-c3', expires: 0, ts: UNREGISTERED }),
  ]);
  await waitForLive(h.pool, CHILD.id, 2);
  await waitForLive(h.pool, PARENT.id, 1);
  await waitForLive(h.pool, SIBLING.id, 1);
}, 300_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await api?.close();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

const stats = async (accountId: string, path: string, token = tokens[accountId]) =>
  http(api.url, 'GET', `/v2/accounts/${accountId}/registrations/stats/${path}`, { token });

interface Activity {
  registered: number;
  unregistered: number;
}
const sums = (points: Activity[]) => ({
  registered: points.reduce((n, p) => n + p.registered, 0),
  unregistered: points.reduce((n, p) => n + p.unregistered, 0),
});
const latest = (points: { live: number }[]) => points[points.length - 1].live;

describe("the charts' endpoints over an account tree", () => {
  it("count the child's bindings under the parent, and never the sibling's or another tenant's", async () => {
    const live = await stats(PARENT.id, 'live');
    expect(live.status).toBe(200);
    expect(latest(live.json.data)).toBe(3); // p1 + c1 + c2
    expect(sums((await stats(PARENT.id, 'activity')).json.data)).toEqual({
      registered: 4,
      unregistered: 1,
    });
    expect((await stats(PARENT.id, 'user-agents')).json.data).toEqual({
      total: 3,
      user_agents: [
        { user_agent: GRANDSTREAM, count: 2 },
        { user_agent: YEALINK, count: 1 },
      ],
    });
  });

  it('a leaf account counts its own; the root counts its whole tree (a grandchild too)', async () => {
    expect(latest((await stats(CHILD.id, 'live')).json.data)).toBe(2);
    expect(latest((await stats(SIBLING.id, 'live')).json.data)).toBe(1);
    expect(latest((await stats(ROOT.id, 'live')).json.data)).toBe(4);
    expect((await stats(ROOT.id, 'user-agents')).json.data.total).toBe(4);
    // The parent's token reads its child's charts, as the rest of the API lets it.
    expect(latest((await stats(CHILD.id, 'live', tokens[PARENT.id])).json.data)).toBe(2);
  });

  it('a child, a sibling or another tenant asking for the parent is refused (403)', async () => {
    for (const who of [CHILD, SIBLING, OTHER])
      for (const path of ['live', 'activity', 'user-agents'])
        expect((await stats(PARENT.id, path, tokens[who.id])).status).toBe(403);
  });
});

describe('signing in to the console with a Kazoo token, in Chromium', () => {
  it("shows the token's account's phones and the tree's charts", async () => {
    const jwt = kazooJwt(keys.privateKey, KID, claimsFor(PARENT.id));
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(30_000);
    try {
      await page.goto(`${api.url}/console/`);
      await page.fill('#secret', jwt);
      await page.click('button[type=submit]');
      await page.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
      await eventually(
        () =>
          page.$$eval('table.bindings tbody tr', (trs) =>
            trs.map((tr) => tr.getAttribute('data-user')),
          ),
        (users) => JSON.stringify(users) === JSON.stringify(['p1']),
        { timeoutMs: 30_000, intervalMs: 100, what: "the parent's phone" },
      );
      await page.locator('[data-testid=total]', { hasText: '1' }).waitFor();
      // The Kazoo token itself is what the tab keeps (nothing exchanged for another).
      expect(await page.evaluate("sessionStorage.getItem('registrations-console.token')")).toBe(
        jwt,
      );
      await page.click('nav >> text=Charts');
      await page.locator('[data-testid=live-latest]', { hasText: '3' }).waitFor();
      expect((await page.locator('[data-testid=activity-registered]').textContent())?.trim()).toBe(
        '4',
      );
      const agents = await page.evaluate(
        `Array.from(document.querySelectorAll('table.agents tbody tr'))
           .map((tr) => tr.querySelector('td').textContent)`,
      );
      expect(agents).toEqual(['Grandstream GXP2170', 'Yealink SIP-T46S']);
    } finally {
      await page.close();
    }
  });
});
