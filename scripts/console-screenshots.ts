// Screenshots of the console's main views into docs/console/ (npm run console:screenshots):
// sign-in, the live bindings (desktop, sorted by the server, and phone width), flush
// confirmations (a user, one phone), the charts and a user's timeline, over generated data in a
// database of their own (scripts/support/console-demo).
import { join, resolve } from 'node:path';
import { launchChromium } from './support/chromium';
import { DEMO_ACCOUNT, startDemo } from './support/console-demo';

const OUT = resolve(__dirname, '../docs/console');

async function main(): Promise<void> {
  const demo = await startDemo(2_500, 400);
  const browser = await launchChromium();
  try {
    const shot = async (
      name: string,
      hash: string,
      opts: {
        width?: number;
        height?: number;
        signedIn?: boolean;
        then?: (p: import('playwright-core').Page) => Promise<void>;
      } = {},
    ) => {
      const context = await browser.newContext({
        viewport: { width: opts.width ?? 1440, height: opts.height ?? 900 },
        deviceScaleFactor: 1,
      });
      if (opts.signedIn !== false)
        await context.addInitScript(
          `sessionStorage.setItem('registrations-console.token', ${JSON.stringify(demo.token)})`,
        );
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(`${demo.url}/console/${hash}`);
      await opts.then?.(page);
      await page.screenshot({ path: join(OUT, `${name}.png`) });
      await context.close();
      console.log(`docs/console/${name}.png`);
    };
    const tableReady = async (p: import('playwright-core').Page) => {
      await p.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
      await p.locator('table.bindings tbody tr').first().waitFor();
    };
    await shot('sign-in', '', { signedIn: false, then: (p) => p.locator('#secret').waitFor() });
    await shot('bindings', `#/bindings?account=${DEMO_ACCOUNT.id}`, { then: tableReady });
    // Sorted by the server: the newest registrations of the account first, users matching "10".
    await shot('bindings-sorted', `#/bindings?account=${DEMO_ACCOUNT.id}`, {
      then: async (p) => {
        await tableReady(p);
        await p.check('input[name=filter-partial]');
        await p.fill('input[name=filter-username]', '10');
        await p.press('input[name=filter-username]', 'Enter');
        await p.locator('table.bindings[aria-busy=false]').waitFor();
        const since = p.locator('th button.sort', { hasText: 'Registered since' });
        await since.click();
        await p.locator('th[aria-sort=ascending]').waitFor();
        await since.click();
        await p.locator('th[aria-sort=descending]').waitFor();
        await p.locator('table.bindings[aria-busy=false]').waitFor();
        await p.locator('[data-testid=feed-state]', { hasText: 'live' }).waitFor();
      },
    });
    await shot('bindings-phone', `#/bindings?account=${DEMO_ACCOUNT.id}`, {
      width: 390,
      height: 844,
      then: tableReady,
    });
    await shot('flush-confirmation', `#/bindings?account=${DEMO_ACCOUNT.id}`, {
      then: async (p) => {
        await tableReady(p);
        await p
          .locator('table.bindings tbody tr button[aria-label^="Flush "]:not([data-testid])')
          .first()
          .click();
        await p.locator('[data-testid=confirm-text]').waitFor();
      },
    });
    await shot('flush-phone-confirmation', `#/bindings?account=${DEMO_ACCOUNT.id}`, {
      then: async (p) => {
        await tableReady(p);
        await p.locator('table.bindings tbody tr [data-testid=flush-phone]').first().click();
        await p.locator('[data-testid=confirm-text]').waitFor();
      },
    });
    await shot('charts', `#/charts?account=${DEMO_ACCOUNT.id}`, {
      height: 1200,
      then: (p) => p.locator('table.agents tbody tr').first().waitFor(),
    });
    await shot('timeline', `#/timeline?account=${DEMO_ACCOUNT.id}&user=1005`, {
      then: (p) => p.locator('table.segments tbody tr').first().waitFor(),
    });
  } finally {
    await browser.close();
    await demo.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
