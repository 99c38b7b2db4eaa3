// What GET …/registrations returns: a page of the account's live bindings, each as its Kazoo
// item in JSON. The page itself is read without the bindings' content (ids, row versions,
// paging keys); an item is rendered once per row version and kept (bounded by
// API_ITEM_CACHE_MB), so a page of bindings that did not change since it was last listed costs
// no row parsing and no serialising (bench/api: most of a list request's CPU). A binding or
// account written since changes its xmin, so a stale item is never served; rows that changed
// between the page read and the content read make the page be read again.
import { Inject, Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ListQuery, LivePageRow, RegistrationQueries, VersionedLiveRow } from '@app/persistence';
import { rowToKazooItem } from './kazoo-registration.presenter';
import type { KazooItemOptions } from '@app/registrations';

const ATTEMPTS = 3;

export interface KazooPage {
  /** The page's live bindings, in order, and each one's item as JSON text. */
  rows: LivePageRow[];
  items: string[];
  /**
   * When more follow: the last row of this page as read, where the next page starts (a binding
   * that ended while the page was read is left out, but the next page still starts after it).
   */
  last?: LivePageRow;
}

/** The rows of a page query and their items; no item where the binding is no longer live. */
interface ReadRows {
  rows: LivePageRow[];
  items: (string | undefined)[];
}

// The row's xmin names its version; the event time is added so that even an xmin met again after
// transaction-id wraparound cannot name an older rendering.
const versionKey = (r: {
  id: number;
  rowVersion: string;
  eventUs: number;
  accountVersion: string | null;
}) => `${r.id}:${r.rowVersion}:${r.eventUs}:${r.accountVersion ?? ''}`;

@Injectable()
export class KazooListService {
  private readonly items: LRUCache<string, string> | undefined;
  private readonly itemOptions: KazooItemOptions;

  constructor(
    private readonly queries: RegistrationQueries,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.itemOptions = {
      portsAsStrings: config.KAZOO_PORT_TYPE === 'string',
      expiresDeviationS: config.KAZOO_EXPIRES_DEVIATION_S,
    };
    const bytes = config.API_ITEM_CACHE_MB * 1024 * 1024;
    // String length stands for size (items are mostly ASCII; the key is small).
    this.items =
      bytes > 0
        ? new LRUCache({ maxSize: bytes, sizeCalculation: (v) => v.length + 64 })
        : undefined;
  }

  /** A page of `pageSize` bindings (all of them without), after `q.after`. */
  async page(q: ListQuery, pageSize?: number): Promise<KazooPage> {
    const { rows, items } = await this.read({
      ...q,
      limit: pageSize === undefined ? undefined : pageSize + 1,
    });
    const more = pageSize !== undefined && rows.length > pageSize;
    const n = more ? pageSize : rows.length;
    const page: KazooPage = { rows: [], items: [], last: more ? rows[n - 1] : undefined };
    for (let i = 0; i < n; i++) {
      const item = items[i];
      if (item === undefined) continue;
      page.rows.push(rows[i]);
      page.items.push(item);
    }
    return page;
  }

  private async read(q: ListQuery): Promise<ReadRows> {
    for (let attempt = 1; ; attempt++) {
      const rows = await this.queries.listLivePage(q);
      const items = new Array<string | undefined>(rows.length);
      const missing: number[] = [];
      for (let i = 0; i < rows.length; i++) {
        const hit = this.items?.get(versionKey(rows[i]));
        if (hit === undefined) missing.push(i);
        else items[i] = hit;
      }
      if (missing.length === 0) return { rows, items };
      const fresh = new Map<number, VersionedLiveRow>();
      for (const f of await this.queries.liveRowsById(missing.map((i) => rows[i].id)))
        fresh.set(f.id, f);
      let changed = false;
      for (const i of missing) {
        const f = fresh.get(rows[i].id);
        if (!f || versionKey(f) !== versionKey(rows[i])) {
          changed = true;
          continue;
        }
        items[i] = JSON.stringify(rowToKazooItem(f, this.itemOptions));
        this.items?.set(versionKey(f), items[i]);
      }
      if (!changed) return { rows, items };
      if (attempt >= ATTEMPTS) return this.asNow(rows, items, fresh);
    }
  }

  /**
   * Rows that keep changing under the page (a binding refreshed again and again): listed as
   * they are now, and left without an item if they are no longer live.
   */
  private asNow(
    rows: LivePageRow[],
    items: (string | undefined)[],
    fresh: Map<number, VersionedLiveRow>,
  ): ReadRows {
    const nowUs = Date.now() * 1000;
    rows.forEach((r, i) => {
      if (items[i] !== undefined) return;
      const f = fresh.get(r.id);
      if (f && f.endReason === null && f.expiresUs > nowUs)
        items[i] = JSON.stringify(rowToKazooItem(f, this.itemOptions));
    });
    return { rows, items };
  }
}
