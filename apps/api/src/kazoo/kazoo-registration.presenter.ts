// Rows of RegistrationQueries.listLive as Kazoo list items (the mapping itself is shared with
// the change feed: libs/registrations/src/kazoo-item.ts).
import { KazooItem, toKazooItem } from '@app/registrations';
import { fromRow, LiveRow } from '@app/persistence';

export { KAZOO_ITEM_KEYS } from '@app/registrations';

export function rowToKazooItem(r: LiveRow): KazooItem {
  return toKazooItem(fromRow(r), {
    name: r.account_name as string | null,
    realm: r.account_realm as string | null,
  });
}
