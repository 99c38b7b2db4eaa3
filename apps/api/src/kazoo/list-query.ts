// Query parameters of GET …/registrations: page_size, start_key (opaque keyset position) and
// filter_<key>=<value> on any item key. Bad input is a 400 in Kazoo's validation format.
import { FILTERABLE, ListQuery } from '@app/persistence';
import { ApiError } from '../common/api-error';

export const MAX_PAGE_SIZE = 1000;

export function encodeStartKey(row: {
  usernameKey: string;
  realmKey: string;
  contactUri: string;
}): string {
  return Buffer.from(JSON.stringify([row.usernameKey, row.realmKey, row.contactUri])).toString(
    'base64url',
  );
}

function decodeStartKey(s: string): [string, string, string] {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    // A key this API made holds keys as stored: text without NUL (Postgres refuses one).
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      v.every((x) => typeof x === 'string' && !x.includes('\u0000'))
    )
      return v as [string, string, string];
  } catch {
    // falls through to the 400
  }
  throw ApiError.invalidInput(
    'start_key',
    'format',
    'start_key is not a value this API returned as next_start_key',
  );
}

export function parseListQuery(
  accountId: string | undefined,
  query: Record<string, unknown>,
): ListQuery & { pageSize?: number } {
  const out: ListQuery & { pageSize?: number } = { accountId, filters: {} };
  const one = (name: string) => {
    const v = query[name];
    if (Array.isArray(v)) throw ApiError.invalidInput(name, 'type', `${name} may be given once`);
    return v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v);
  };
  const pageSize = one('page_size');
  if (pageSize !== undefined) {
    if (!/^\d+$/.test(pageSize) || Number(pageSize) < 1)
      throw ApiError.invalidInput('page_size', 'minimum', 'page_size must be a positive integer');
    if (Number(pageSize) > MAX_PAGE_SIZE)
      throw ApiError.invalidInput(
        'page_size',
        'maximum',
        `page_size must be at most ${MAX_PAGE_SIZE}`,
      );
    out.pageSize = Number(pageSize);
  }
  const startKey = one('start_key');
  if (startKey !== undefined) out.after = decodeStartKey(startKey);
  for (const name of Object.keys(query)) {
    if (!name.startsWith('filter_')) continue;
    const field = name.slice('filter_'.length);
    // Own keys only: `filter_toString` must not find Object.prototype's.
    if (!Object.hasOwn(FILTERABLE, field)) {
      throw ApiError.invalidInput(
        name,
        'enum',
        `cannot filter on ${field}; filterable keys: ${Object.keys(FILTERABLE).join(', ')}`,
      );
    }
    out.filters![field] = one(name)!;
  }
  return out;
}
