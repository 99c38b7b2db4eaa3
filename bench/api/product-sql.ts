// The SQL text the product runs, taken from the product itself: RegistrationQueries is called
// with a stand-in DataSource that records the statement instead of running it. The bare route
// and the EXPLAIN therefore run byte-for-byte the product's statements, whatever they become.
import type { DataSource } from 'typeorm';
import { RegistrationQueries } from '@app/persistence/registration.queries';

export interface ProductSql {
  /** listLivePage with a LIMIT ($1 account, $2 limit). */
  listLimit: string;
  /** listLivePage with a start_key and a LIMIT ($1 account, $2–$4 position, $5 limit). */
  listAfterLimit: string;
  /** listLivePage without LIMIT ($1 account). */
  listAll: string;
  /** listLivePage with a start_key, without LIMIT. */
  listAfter: string;
  /** liveRowsById ($1 ids): the content of the page's rows not cached. */
  rowsById: string;
  /** countLive(accountId) ($1 account). */
  count: string;
}

export async function captureProductSql(): Promise<ProductSql> {
  let last = '';
  // The product runs its hot reads as named prepared statements on the driver's pool
  // (driver.master.query({ name, text, values })) and others through ds.query(sql).
  const recorder = {
    query: async (sql: string) => {
      last = sql;
      return [{ n: 0 }];
    },
    driver: {
      master: {
        query: async (config: { text: string }) => {
          last = config.text;
          return { rows: [{ n: 0 }] };
        },
      },
    },
  } as unknown as DataSource;
  const q = new RegistrationQueries(recorder);
  const take = async (run: () => Promise<unknown>) => {
    last = '';
    await run();
    if (!last) throw new Error('RegistrationQueries ran no SQL');
    return last;
  };
  const id = '0'.repeat(32);
  const after: [string, string, string] = ['u', 'r', 'c'];
  return {
    listLimit: await take(() => q.listLivePage({ accountId: id, limit: 51 })),
    listAfterLimit: await take(() => q.listLivePage({ accountId: id, after, limit: 51 })),
    listAll: await take(() => q.listLivePage({ accountId: id })),
    listAfter: await take(() => q.listLivePage({ accountId: id, after })),
    rowsById: await take(() => q.liveRowsById([1])),
    count: await take(() => q.countLive(id)),
  };
}
