// Orders of the console's live-binding list other than the Kazoo list's (username, realm,
// contact): each a SQL key made unique by the binding's id, so that keyset paging
// ((key…) > (after…)) neither loses nor repeats rows, ascending or descending. Text keys that can
// be NULL are compared as '' (a row comparison with a NULL is never true). "username" is the
// Kazoo order itself (unique without the id, and the index registrations_live_account_cov);
// the others are a top-N over the account's live bindings (docs/console.md: measured at
// 100,000), since an index on a refreshed column (expiry, last refresh, refreshes) would end HOT
// refreshes (migration 1796317000000) and each index more costs every first registration.

export const SORT_KEYS = [
  'username',
  'realm',
  'contact',
  'source_ip',
  'proxy',
  'user_agent',
  'mac',
  'registered_since',
  'expires',
  'last_refresh',
  'refreshes',
] as const;

export type SortKey = (typeof SORT_KEYS)[number];

interface SortColumns {
  /** SQL over `r`, most significant first; NOT NULL each. */
  cols: string[];
  /** The SQL type each cursor value (sent as text) is cast back to. */
  types: string[];
}

const byId = (col: string, type: string): SortColumns => ({
  cols: [col, 'r.id'],
  types: [type, 'bigint'],
});

export const SORTS: Readonly<Record<SortKey, SortColumns>> = {
  username: {
    cols: ['r.username_key', 'r.realm_key', 'r.contact_uri'],
    types: ['text', 'text', 'text'],
  },
  realm: byId('r.realm_key', 'text'),
  contact: byId('r.contact_uri', 'text'),
  source_ip: byId(`coalesce(r.source_ip, '')`, 'text'),
  proxy: byId(`coalesce(r.proxy_ip, '')`, 'text'),
  user_agent: byId(`coalesce(r.user_agent, '')`, 'text'),
  mac: byId(`coalesce(r.mac, '')`, 'text'),
  registered_since: byId('r.first_registered_at', 'timestamptz'),
  expires: byId('r.expires_at', 'timestamptz'),
  last_refresh: byId('r.last_registered_at', 'timestamptz'),
  refreshes: byId('r.refresh_count', 'int'),
};

export interface ListSort {
  key: SortKey;
  desc: boolean;
  /** The sort key of the last row of the previous page (as sortKey returned it). */
  after?: string[];
}

/**
 * The keyset condition (or undefined on the first page), the ORDER BY, and the select-list item
 * returning each row's sort key as text (what a next page starts after).
 */
export function sortSql(
  s: ListSort,
  param: (v: unknown) => string,
): { where?: string; orderBy: string; select: string } {
  const { cols, types } = SORTS[s.key];
  const dir = s.desc ? 'DESC' : 'ASC';
  let where: string | undefined;
  if (s.after) {
    if (s.after.length !== cols.length)
      throw new Error(`sort key of ${s.key}: ${cols.length} values`);
    const values = s.after.map((v, i) => `${param(v)}::${types[i]}`);
    where = `(${cols.join(', ')}) ${s.desc ? '<' : '>'} (${values.join(', ')})`;
  }
  return {
    where,
    orderBy: cols.map((c) => `${c} ${dir}`).join(', '),
    select: `ARRAY[${cols.map((c) => `${c}::text`).join(', ')}] AS "sortKey"`,
  };
}
