// The console's first view with 100,000 live bindings in the account (npm run bench:console):
// time from navigation to the table showing its first page with the change feed live, for a
// signed-in operator (token already in the tab), in Chromium. Cold runs use a new browser
// context each (empty cache); warm runs reload in the same context (assets cached, immutable).
import { performance } from 'node:perf_hooks';
import type { BrowserContext } from 'playwright-core';
import { launchChromium } from '../../scripts/support/chromium';
import { DEMO_ACCOUNT, startDemo } from '../../scripts/support/console-demo';

const BINDINGS = Number(process.env.CONSOLE_BENCH_BINDINGS ?? 100_000);
const RUNS = Number(process.env.CONSOLE_BENCH_RUNS ?? 7);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const t0 = performance.now();
  const demo = await startDemo(BINDINGS, 2_000);
  console.log(
    `data: ${BINDINGS.toLocaleString('en')} live bindings loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const browser = await launchChromium();
  const url = `${demo.url}/console/#/bindings?account=${DEMO_ACCOUNT.id}`;
  const signedIn = async (): Promise<BrowserContext> => {
    const c = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await c.addInitScript(
      `sessionStorage.setItem('registrations-console.token', ${JSON.stringify(demo.token)})`,
    );
    return c;
  };
  /** ms from navigation start to rows shown and feed live, as the page's own clock says. */
  const firstView = async (page: import('playwright-core').Page, reload: boolean) => {
    if (reload) await page.reload({ waitUntil: 'commit' });
    else await page.goto(url, { waitUntil: 'commit' });
    await page
      .locator('[data-testid=feed-state]', { hasText: 'live' })
      .waitFor({ timeout: 60_000 });
    await page.locator('table.bindings tbody tr').first().waitFor({ timeout: 60_000 });
    const shown = await page.evaluate<number>('performance.now()');
    const total = await page.locator('[data-testid=total]').textContent();
    return { ms: shown, total };
  };
  const cold: number[] = [];
  const warm: number[] = [];
  let total: string | null = null;
  try {
    // One unmeasured load (Postgres caches, JIT of the API's paths).
    const w = await signedIn();
    await firstView(await w.newPage(), false);
    await w.close();
    for (let i = 0; i < RUNS; i++) {
      const c = await signedIn();
      const page = await c.newPage();
      const r = await firstView(page, false);
      cold.push(r.ms);
      total = r.total;
      warm.push((await firstView(page, true)).ms);
      await c.close();
    }
  } finally {
    await browser.close();
    await demo.close();
  }
  const f = (xs: number[]) =>
    `median ${median(xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms (${xs.map((x) => x.toFixed(0)).join(', ')})`;
  console.log(`account total shown: ${total}`);
  console.log(`first view, cold cache (${RUNS} runs): ${f(cold)}`);
  console.log(`first view, warm cache (${RUNS} runs): ${f(warm)}`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
