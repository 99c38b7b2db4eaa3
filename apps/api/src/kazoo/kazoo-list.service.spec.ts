// A Kazoo list page from row versions and cached items: what a client pages through must lose
// nothing and repeat nothing, even while bindings change under the page being read.
import type { AppConfig } from '@app/config';
import type {
  ListQuery,
  LivePageRow,
  RegistrationQueries,
  VersionedLiveRow,
} from '@app/persistence';
import { KazooListService } from './kazoo-list.service';

const FUTURE_US = (Date.now() + 3600_000) * 1000;

function pageRow(id: number, version: string): LivePageRow {
  return {
    id,
    rowVersion: version,
    accountVersion: '1',
    eventUs: 1_000_000 * id,
    expires: 600,
    usernameKey: `u${id}`,
    realmKey: 'r.example.net',
    contactUri: `sip:u${id}@192.0.2.1`,
  };
}

function liveRow(id: number, version: string, ended = false): VersionedLiveRow {
  return {
    ...pageRow(id, version),
    username: `u${id}`,
    realm: 'r.example.net',
    originalContact: `<sip:u${id}@192.0.2.1>`,
    endReason: ended ? 'unregistered' : null,
    expiresUs: FUTURE_US,
  } as unknown as VersionedLiveRow;
}

/** The store as the service sees it: rows by id, whose versions the test changes. */
function fakeQueries(stored: Map<number, VersionedLiveRow>) {
  const calls = { pages: 0, byId: 0 };
  const queries = {
    listLivePage: (q: ListQuery) => {
      calls.pages++;
      const live = [...stored.values()].map((r) => pageRow(r.id, r.rowVersion));
      return Promise.resolve(q.limit === undefined ? live : live.slice(0, q.limit));
    },
    liveRowsById: (ids: number[]) => {
      calls.byId++;
      return Promise.resolve(ids.map((id) => stored.get(id)!).filter(Boolean));
    },
  } as unknown as RegistrationQueries;
  return { queries, calls };
}

const config = { API_ITEM_CACHE_MB: 1 } as AppConfig;

it('renders each row version once: the same page again reads no row content', async () => {
  const stored = new Map([1, 2, 3].map((id) => [id, liveRow(id, 'a')] as const));
  const { queries, calls } = fakeQueries(stored);
  const service = new KazooListService(queries, config);
  const first = await service.page({ accountId: 'x' }, 2);
  expect(first.rows.map((r) => r.id)).toEqual([1, 2]);
  expect(first.last?.id).toBe(2);
  expect(JSON.parse(first.items[0])).toMatchObject({ username: 'u1' });
  const byIdBefore = calls.byId;
  const again = await service.page({ accountId: 'x' }, 2);
  expect(again.items).toEqual(first.items);
  expect(calls.byId).toBe(byIdBefore);
});

it('a binding that keeps changing and ended meanwhile is left out, and the next page still starts after it', async () => {
  const stored = new Map([1, 2, 3].map((id) => [id, liveRow(id, 'a')] as const));
  // Each content read finds row 2 at a newer version than the page read saw, and ended.
  let version = 0;
  const { queries } = fakeQueries(stored);
  const byId = queries.liveRowsById.bind(queries);
  (queries as { liveRowsById: typeof byId }).liveRowsById = async (ids) => {
    const rows = await byId(ids);
    version++;
    stored.set(2, liveRow(2, `b${version}`, true));
    return rows.map((r) => (r.id === 2 ? liveRow(2, `c${version}`, true) : r));
  };
  const page = await new KazooListService(queries, config).page({ accountId: 'x' }, 2);
  expect(page.rows.map((r) => r.id)).toEqual([1]);
  expect(page.items).toHaveLength(1);
  // More follow (row 3): the cursor is row 2 as read, so row 3 is the next page's first.
  expect(page.last?.id).toBe(2);
});

it('without a page size: every live row, and no cursor', async () => {
  const stored = new Map([1, 2, 3].map((id) => [id, liveRow(id, 'a')] as const));
  const page = await new KazooListService(fakeQueries(stored).queries, config).page({
    accountId: 'x',
  });
  expect(page.rows.map((r) => r.id)).toEqual([1, 2, 3]);
  expect(page.last).toBeUndefined();
});
