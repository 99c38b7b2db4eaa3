// The live bindings of one account: filtered, sorted and paged by the API (never the whole
// list: a sort covers every binding that matches, a page continues after the last row shown),
// kept live by the change feed, and flushed from a row or for the whole account after a
// confirmation.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { accountPath, request, send, storedToken } from './api';
import {
  address,
  bindingKey,
  contactUri,
  shortTime,
  BindingItem,
  expiresAtMs,
  filterParams,
  Filters,
  formatDuration,
  macOf,
  matches,
  NO_FILTERS,
  registeredSinceMs,
  Sort,
  sortParams,
  sortsWithinLoaded,
} from './bindings';
import { ChangeEvent, openFeed } from './live-feed';
import { FlushRequest, FlushDialog } from './flush-dialog';
import { PhoneAction, PhoneActionDialog } from './phone-actions';

const PAGE_SIZE = 50;
const ENDS = new Set(['unregistered', 'expired', 'flushed', 'replaced', 'reconciled']);

interface ListState {
  rows: BindingItem[];
  next?: string;
  /** Keys of rows that arrived on the change feed (highlighted). */
  fresh: Set<string>;
}

const COLUMNS: { key: Sort['key']; label: string }[] = [
  { key: 'username', label: 'User' },
  { key: 'realm', label: 'Realm' },
  { key: 'contact', label: 'Contact' },
  { key: 'source_ip', label: 'Source' },
  { key: 'proxy', label: 'Proxy' },
  { key: 'user_agent', label: 'User agent' },
  { key: 'mac', label: 'MAC' },
  { key: 'registered_since', label: 'Registered since' },
  { key: 'expires', label: 'Expires in' },
  { key: 'refreshes', label: 'Refreshes' },
];

/** Whether a binding sorts within the loaded part of the list (else a later page shows it). */
function withinLoaded(b: BindingItem, s: ListState, sort: Sort | undefined): boolean {
  if (s.next === undefined) return true;
  const last = s.rows[s.rows.length - 1];
  return !last || sortsWithinLoaded(b, last, sort);
}

export function BindingsView(props: { accountId: string; accountLabel: string }) {
  const { accountId } = props;
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [list, setList] = useState<ListState>({ rows: [], fresh: new Set() });
  const [total, setTotal] = useState<number | undefined>();
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const [feed, setFeed] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [sort, setSort] = useState<Sort | undefined>();
  const [now, setNow] = useState(Date.now());
  const [flush, setFlush] = useState<FlushRequest | undefined>();
  const [phoneAction, setPhoneAction] = useState<PhoneAction | undefined>();
  const [result, setResult] = useState<{ ok: boolean; text: string } | undefined>();
  const [reloads, setReloads] = useState(0);
  const listRef = useRef(list);
  listRef.current = list;
  const sortRef = useRef(sort);
  sortRef.current = sort;
  const countTimer = useRef<number | undefined>(undefined);

  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(t);
  }, []);

  const refreshCount = useCallback(() => {
    request<{ count: number }>('GET', `${accountPath(accountId)}/count`)
      .then((r) => setTotal(r.data.count))
      .catch(() => undefined);
  }, [accountId]);

  // (Re)load on account or filter change: position first, then the first page, then the feed
  // after that position (a change in between is applied to the page as read: idempotent).
  useEffect(() => {
    let live = true;
    let closeFeed: (() => void) | undefined;
    const params = filterParams(filters);
    setLoading(true);
    setError(undefined);
    setFeed('connecting');
    (async () => {
      if (typeof params === 'string') throw new Error(params);
      const pos = await request<{ seq: number }>(
        'GET',
        `${accountPath(accountId)}/changes/position`,
      );
      params.set('page_size', String(PAGE_SIZE));
      sortParams(sort).forEach((v, k) => params.set(k, v));
      const page = await request<BindingItem[]>(
        'GET',
        `/v2/console/accounts/${accountId}/bindings?${params.toString()}`,
      );
      if (!live) return;
      setList({ rows: page.data, next: page.next_start_key, fresh: new Set() });
      refreshCount();
      setLoading(false);
      closeFeed = openFeed(accountId, pos.data.seq, storedToken() ?? '', {
        open: () => live && setFeed('live'),
        closed: () => {
          if (!live) return;
          setFeed('reconnecting');
          // Checks the token (a 401 signs out) and reads the list again from a new position.
          window.setTimeout(() => live && setReloads((n) => n + 1), 2000);
        },
        change: (e) => live && apply(e),
      });
    })().catch((e: Error) => {
      if (!live) return;
      setError(e.message);
      setLoading(false);
    });
    return () => {
      live = false;
      closeFeed?.();
    };
  }, [accountId, filters, sort, reloads]);

  const apply = (e: ChangeEvent) => {
    const b = e.registration;
    if (!b || typeof b.username !== 'string' || typeof b.realm !== 'string') return;
    const key = bindingKey(b);
    setList((s) => {
      const at = s.rows.findIndex((r) => bindingKey(r) === key);
      if (ENDS.has(e.change)) {
        if (at < 0) return s;
        const rows = s.rows.slice();
        rows.splice(at, 1);
        return { ...s, rows };
      }
      if (at >= 0) {
        const old = s.rows[at];
        const rows = s.rows.slice();
        rows[at] = {
          ...old,
          ...b,
          id: old.id,
          mac: old.mac,
          refresh_count: (old.refresh_count ?? 0) + (e.change === 'refreshed' ? 1 : 0),
        };
        return { ...s, rows };
      }
      if (!matches(b, filters) || !withinLoaded(b, s, sortRef.current)) return s;
      const fresh = new Set(s.fresh);
      fresh.add(key);
      return { ...s, rows: [...s.rows, { ...b, refresh_count: 0 }], fresh };
    });
    window.clearTimeout(countTimer.current);
    countTimer.current = window.setTimeout(refreshCount, 500);
  };

  const loadMore = async () => {
    const s = listRef.current;
    if (s.next === undefined) return;
    const params = filterParams(filters) as URLSearchParams;
    params.set('page_size', String(PAGE_SIZE));
    sortParams(sortRef.current).forEach((v, k) => params.set(k, v));
    params.set('start_key', s.next);
    try {
      const page = await request<BindingItem[]>(
        'GET',
        `/v2/console/accounts/${accountId}/bindings?${params.toString()}`,
      );
      setList((cur) => {
        const have = new Set(cur.rows.map(bindingKey));
        return {
          ...cur,
          rows: [...cur.rows, ...page.data.filter((r) => !have.has(bindingKey(r)))],
          next: page.next_start_key,
        };
      });
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const exportCsv = async () => {
    const params = filterParams(filters) as URLSearchParams;
    try {
      const res = await send('GET', `${accountPath(accountId)}?${params.toString()}`, {
        accept: 'text/csv',
      });
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement('a');
      a.href = url;
      a.download = `registrations-${accountId}.csv`;
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  const onFlushed = (text: string, req: FlushRequest) => {
    setFlush(undefined);
    setResult({ ok: true, text });
    // The feed removes them too; removing now also covers a feed that is reconnecting.
    setList((s) => ({
      ...s,
      rows: s.rows.filter(
        (r) => req.kind === 'account' || r.username.toLowerCase() !== req.username.toLowerCase(),
      ),
    }));
    refreshCount();
  };

  const onPhoneAction = (text: string, action: PhoneAction) => {
    setPhoneAction(undefined);
    setResult({ ok: true, text });
    if (action.kind !== 'contact') return;
    // Only that binding ended (the feed removes it too).
    const key = bindingKey(action.binding);
    setList((s) => ({ ...s, rows: s.rows.filter((r) => bindingKey(r) !== key) }));
    refreshCount();
  };

  const rows = list.rows;
  const field = (k: Exclude<keyof Filters, 'partial'>, label: string, placeholder: string) => (
    <label>
      {label}
      <input
        name={`filter-${k}`}
        value={draft[k]}
        placeholder={placeholder}
        onInput={(e) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value })}
      />
    </label>
  );

  return (
    <section aria-labelledby="bindings-title">
      <div class="toolbar">
        <h2 id="bindings-title">
          Live bindings{' '}
          <span class="count" data-testid="total">
            {total === undefined ? '' : total.toLocaleString('en')}
          </span>
        </h2>
        <span class={`feed feed-${feed}`} role="status" data-testid="feed-state">
          {feed === 'live' ? '● live' : feed === 'connecting' ? '○ connecting' : '○ reconnecting'}
        </span>
        <button
          type="button"
          onClick={exportCsv}
          disabled={filters.partial && !!(filters.username.trim() || filters.user_agent.trim())}
          title={
            filters.partial
              ? 'The CSV comes from the Kazoo list, which has exact filters only'
              : 'Every binding that matches the filters'
          }
        >
          Export CSV
        </button>
        <button
          type="button"
          class="danger"
          onClick={() => setFlush({ kind: 'account', total, label: props.accountLabel })}
        >
          Flush account…
        </button>
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft });
        }}
      >
        {field('username', 'User', draft.partial ? 'starts with' : 'exact SIP user')}
        {field('mac', 'MAC', '00:15:65:…')}
        {field('ip', 'Source IP', '203.0.113.7')}
        {field('user_agent', 'User agent', draft.partial ? 'contains' : 'exact User-Agent')}
        {field('proxy', 'Proxy', 'proxy IP')}
        <label class="check">
          <input
            type="checkbox"
            name="filter-partial"
            checked={draft.partial}
            onChange={(e) =>
              setDraft({ ...draft, partial: (e.target as HTMLInputElement).checked })
            }
          />
          Partial user / agent
        </label>
        <button type="submit">Apply filters</button>
        <button
          type="button"
          onClick={() => {
            setDraft(NO_FILTERS);
            setFilters(NO_FILTERS);
          }}
        >
          Clear
        </button>
      </form>
      {result && (
        <p class={result.ok ? 'result ok' : 'result error'} role="status" data-testid="result">
          {result.text}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="bindings" aria-busy={loading}>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th
                  key={c.key}
                  aria-sort={
                    sort?.key !== c.key ? 'none' : sort.dir === 1 ? 'ascending' : 'descending'
                  }
                >
                  <button
                    type="button"
                    class="sort"
                    onClick={() =>
                      setSort(
                        sort?.key === c.key
                          ? { key: c.key, dir: sort.dir === 1 ? -1 : 1 }
                          : { key: c.key, dir: 1 },
                      )
                    }
                  >
                    {c.label}
                    {sort?.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
                  </button>
                </th>
              ))}
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {rows.map((b) => {
              const key = bindingKey(b);
              const since = registeredSinceMs(b);
              const exp = expiresAtMs(b);
              return (
                <tr key={key} class={list.fresh.has(key) ? 'fresh' : ''} data-user={b.username}>
                  <td>
                    <a
                      href={`#/timeline?account=${accountId}&user=${encodeURIComponent(b.username)}`}
                    >
                      {b.username}
                    </a>
                  </td>
                  <td>{b.realm}</td>
                  <td class="mono contact" title={b.original_contact}>
                    {contactUri(b)}
                  </td>
                  <td class="mono">{address(b.source_ip, b.source_port)}</td>
                  <td class="mono">{address(b.proxy_ip, b.proxy_port)}</td>
                  <td class="agent">{b.user_agent}</td>
                  <td class="mono">{macOf(b) ?? ''}</td>
                  <td title={since === undefined ? '' : new Date(since).toLocaleString()}>
                    {since === undefined ? '' : shortTime(since, now)}
                  </td>
                  <td class="num">{exp === undefined ? '' : formatDuration(exp - now)}</td>
                  <td class="num">{b.refresh_count ?? ''}</td>
                  <td class="actions">
                    <button
                      type="button"
                      class="danger small"
                      aria-label={`Flush this phone of ${b.username}@${b.realm}: ${contactUri(b)}`}
                      title={
                        b.id === undefined
                          ? 'Arrived on the live feed: reload to act on this phone alone'
                          : 'Flush only this binding (this contact)'
                      }
                      disabled={b.id === undefined}
                      data-testid="flush-phone"
                      onClick={() => setPhoneAction({ kind: 'contact', binding: b })}
                    >
                      Flush this phone
                    </button>{' '}
                    <button
                      type="button"
                      class="small"
                      aria-label={`Re-provision (check-sync) ${b.username}@${b.realm}`}
                      data-testid="check-sync"
                      onClick={() => setPhoneAction({ kind: 'check-sync', binding: b })}
                    >
                      Re-provision
                    </button>{' '}
                    <button
                      type="button"
                      class="danger small"
                      aria-label={`Flush ${b.username}@${b.realm}`}
                      onClick={() =>
                        setFlush({
                          kind: 'user',
                          username: b.username,
                          realm: b.realm,
                          contacts: list.rows.filter(
                            (r) => r.username.toLowerCase() === b.username.toLowerCase(),
                          ).length,
                        })
                      }
                    >
                      Flush user
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="paging" data-testid="paging">
        {loading
          ? 'Loading…'
          : `${list.rows.length.toLocaleString('en')} shown${list.next ? '' : ' (all that match)'}`}
        {list.next && (
          <button type="button" onClick={loadMore}>
            Load {PAGE_SIZE} more
          </button>
        )}
        {sort && (
          <span class="hint">
            {' '}
            Sorted by the server over every binding that matches; phones that arrive live are added
            at the end.
          </span>
        )}
      </p>
      {phoneAction && (
        <PhoneActionDialog
          accountId={accountId}
          action={phoneAction}
          onDone={onPhoneAction}
          onCancel={() => setPhoneAction(undefined)}
        />
      )}
      {flush && (
        <FlushDialog
          accountId={accountId}
          request={flush}
          onDone={onFlushed}
          onCancel={() => setFlush(undefined)}
        />
      )}
    </section>
  );
}
