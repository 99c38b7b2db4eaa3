// Rows of RegistrationQueries.listLive as Kazoo list items (the mapping itself is shared with
// the change feed: libs/registrations/src/kazoo-item.ts).
import { KazooItem, toKazooItem } from '@app/registrations';
import type { Binding, KazooItemOptions } from '@app/registrations';
import type { LiveRow } from '@app/persistence';

export { KAZOO_ITEM_KEYS } from '@app/registrations';

export function rowToKazooItem(r: LiveRow, opts: KazooItemOptions = {}): KazooItem {
  // A LiveRow has the Binding's keys; toKazooItem skips NULLs as it skips undefined.
  return toKazooItem(r as unknown as Binding, { name: r.accountName, realm: r.accountRealm }, opts);
}
