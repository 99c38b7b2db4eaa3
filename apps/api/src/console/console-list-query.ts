// The console list's query: the Kazoo list's (page_size, filter_<key>, start_key) plus a sort
// over the whole filtered set — sort=<key>&order=asc|desc, paged by a start_key of its own that
// names the sort it continues — and partial matches: search_username (starts with) and
// search_user_agent (contains), both without case. Checked here with zod; bad input is a 400 in Kazoo's envelope,
// as the rest of this route answers. Without sort, the Kazoo list's order and start_key.
import { z } from 'zod';
import { ListQuery, ListSort, LivePageRow, SORT_KEYS, SORTS } from '@app/persistence';
import { ApiError } from '../common/api-error';
import { parseListQuery } from '../kazoo/list-query';

const sortParams = z.object({
  sort: z.enum(SORT_KEYS).optional(),
  order: z.enum(['asc', 'desc']).default('asc'),
});

// Text without NUL (Postgres refuses one), of a length a person types.
const searchText = z
  .string()
  .min(1)
  .max(256)
  .refine((x) => !x.includes('\u0000'), 'no NUL');

const cursor = z.object({
  s: z.enum(SORT_KEYS),
  d: z.enum(['asc', 'desc']),
  // Values as Postgres printed them: text without NUL (Postgres refuses one).
  k: z
    .array(
      z
        .string()
        .max(8192)
        .refine((x) => !x.includes('\u0000')),
    )
    .min(1),
});

function one(query: Record<string, unknown>, name: string): string | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw ApiError.invalidInput(name, 'type', `${name} may be given once`);
  return v;
}

export function encodeSortedStartKey(sort: ListSort, last: LivePageRow): string {
  const c: z.infer<typeof cursor> = {
    s: sort.key,
    d: sort.desc ? 'desc' : 'asc',
    k: last.sortKey ?? [],
  };
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeSortedStartKey(s: string, sort: ListSort): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const c = cursor.safeParse(parsed);
  if (
    !c.success ||
    c.data.s !== sort.key ||
    c.data.d !== (sort.desc ? 'desc' : 'asc') ||
    c.data.k.length !== SORTS[sort.key].cols.length
  )
    throw ApiError.invalidInput(
      'start_key',
      'format',
      'start_key is not a next_start_key this API returned for the same sort and order',
    );
  return c.data.k;
}

function parseSearch(query: Record<string, unknown>): ListQuery['search'] {
  const out: NonNullable<ListQuery['search']> = {};
  for (const [name, field] of [
    ['search_username', 'usernamePrefix'],
    ['search_user_agent', 'userAgentContains'],
  ] as const) {
    const v = one(query, name);
    if (v === undefined) continue;
    const r = searchText.safeParse(v);
    if (!r.success)
      throw ApiError.invalidInput(name, 'format', `${name} must be 1–256 characters, no NUL`);
    out[field] = r.data;
  }
  return Object.keys(out).length ? out : undefined;
}

export function parseConsoleListQuery(
  accountId: string,
  query: Record<string, unknown>,
): ListQuery & { pageSize?: number } {
  const search = parseSearch(query);
  return { ...parseSorted(accountId, query), ...(search ? { search } : {}) };
}

function parseSorted(
  accountId: string,
  query: Record<string, unknown>,
): ListQuery & { pageSize?: number } {
  const raw = { sort: one(query, 'sort'), order: one(query, 'order') };
  const r = sortParams.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const name = String(issue?.path[0] ?? 'sort');
    throw ApiError.invalidInput(
      name,
      'enum',
      name === 'order'
        ? 'order must be asc or desc'
        : `cannot sort by ${String(raw.sort)}; sort keys: ${SORT_KEYS.join(', ')}`,
    );
  }
  if (!r.data.sort) {
    if (raw.order !== undefined)
      throw ApiError.invalidInput('order', 'dependencies', 'order needs sort');
    return parseListQuery(accountId, query);
  }
  const rest = { ...query };
  delete rest.start_key;
  const q = parseListQuery(accountId, rest);
  const sort: ListSort = { key: r.data.sort, desc: r.data.order === 'desc' };
  const startKey = one(query, 'start_key');
  if (startKey !== undefined) sort.after = decodeSortedStartKey(startKey, sort);
  return { ...q, sort };
}
