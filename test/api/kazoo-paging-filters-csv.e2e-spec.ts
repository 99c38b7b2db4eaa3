// What the Kazoo list does better than Kazoo: page_size + start_key → next_start_key paging
// (stable order; nothing lost, nothing repeated), filter_<key>=<value>, and Accept: text/csv.
// Over real HTTP, with the bindings ingested from RabbitMQ as in production.
import {
  accountIdFor,
  accountWithToken,
  ApiHarness,
  expectEnvelope,
  expectValidationError,
  http,
  HttpResult,
  startApi,
} from '../support/api-harness';
import { kazooBinding, waitForLive } from '../support/api-fixtures';
import { parseCsv } from '../support/csv';
import { startIngest, Harness } from '../support/ingest-harness';
import { nowS } from '../support/messages';

let h: Harness;
let api: ApiHarness;

const PAGE = { id: accountIdFor('pf-page'), name: 'Paging Co', realm: 'page.pf.api-e2e.test' };
const FOREIGN = {
  id: accountIdFor('pf-foreign'),
  name: 'Foreign',
  realm: 'foreign.pf.api-e2e.test',
};
let token: string;
let foreignToken: string;

const UAS = ['Yealink SIP-T46S 66.86.0.15', 'Polycom/5.9.6 VVX-400', 'Acme "Softphone", build 7'];

interface Spec {
  username: string;
  ip: string;
  port: number;
  ua: string;
  suppress: boolean;
}

/** The account's 23 bindings: u01…u20, with u05 on three phones and u10 on two. */
const SPECS: Spec[] = [];
for (let n = 1; n <= 20; n++) {
  const username = `u${String(n).padStart(2, '0')}`;
  const base = { username, ua: UAS[n % 3], suppress: n % 2 === 0 };
  SPECS.push({ ...base, ip: `10.9.0.${(n % 4) + 1}`, port: 5060 });
  if (n === 5) {
    SPECS.push({ ...base, ip: '10.9.1.5', port: 5070, ua: UAS[0] });
    SPECS.push({ ...base, ip: '10.9.1.5', port: 5071, ua: UAS[1] });
  }
  if (n === 10) SPECS.push({ ...base, ip: '10.9.0.2', port: 5099, ua: UAS[2] });
}
const TOTAL = SPECS.length; // 23

const keyOf = (i: { username: string; contact: string }) => `${i.username}|${i.contact}`;
const specKey = (s: Spec) => `${s.username}|sip:${s.username}@${s.ip}:${s.port}`;

const ts = nowS() - 20;

beforeAll(async () => {
  h = await startIngest();
  api = await startApi();
  token = (await accountWithToken(api, PAGE)).token;
  foreignToken = (await accountWithToken(api, FOREIGN)).token;
  await h.broker.publish([
    ...SPECS.map((s, i) =>
      kazooBinding({
        realm: PAGE.realm,
        username: s.username,
        accountId: PAGE.id,
        contact: `<sip:${s.username}@${s.ip}:${s.port}>`,
        callId: `call-${i}@pf`,
        userAgent: s.ua,
        ts: ts + i,
        ccv: { 'Suppress-Unregister-Notifications': s.suppress },
      }),
    ),
    // Another account whose phones look alike (same usernames, agents and addresses).
    ...SPECS.slice(0, 6).map((s, i) =>
      kazooBinding({
        realm: FOREIGN.realm,
        username: s.username,
        accountId: FOREIGN.id,
        contact: `<sip:${s.username}@${s.ip}:${s.port}>`,
        callId: `foreign-${i}@pf`,
        userAgent: s.ua,
        ts,
      }),
    ),
  ]);
  await waitForLive(h.pool, PAGE.id, TOTAL);
  await waitForLive(h.pool, FOREIGN.id, 6);
});

afterAll(async () => {
  await api?.close();
  await h?.stop();
});

type Item = Record<string, string | number | boolean> & { username: string; contact: string };

const LIST = () => `/v2/accounts/${PAGE.id}/registrations`;

async function list(query = '', headers: Record<string, string> = {}): Promise<HttpResult> {
  return http(api.url, 'GET', `${LIST()}${query ? `?${query}` : ''}`, { token, headers });
}

/** Follows next_start_key from the first page to the last; checks each page's envelope. */
async function allPages(
  pageSize: number,
  filters = '',
): Promise<{ pages: Item[][]; items: Item[] }> {
  const pages: Item[][] = [];
  let startKey: string | undefined;
  for (let guard = 0; guard < 200; guard++) {
    const q = [
      `page_size=${pageSize}`,
      filters,
      startKey && `start_key=${encodeURIComponent(startKey)}`,
    ]
      .filter(Boolean)
      .join('&');
    const b = expectEnvelope(await list(q), { status: 200, token });
    expect(b.page_size).toBe(b.data.length);
    expect(b.data.length).toBeLessThanOrEqual(pageSize);
    if (startKey !== undefined) expect(b.start_key).toBe(startKey);
    pages.push(b.data);
    if (b.next_start_key === undefined) return { pages, items: pages.flat() };
    expect(b.next_start_key).toEqual(expect.any(String));
    expect(b.next_start_key).not.toBe(startKey);
    // A page announcing a next page is full.
    expect(b.data.length).toBe(pageSize);
    startKey = b.next_start_key;
  }
  throw new Error('paging never ended');
}

describe('paging with page_size and start_key → next_start_key', () => {
  let full: Item[];
  beforeAll(async () => {
    const b = expectEnvelope(await list(), { status: 200, token });
    full = b.data;
    expect(b.page_size).toBe(TOTAL);
    expect(b).not.toHaveProperty('next_start_key');
  });

  it('the full list holds exactly the account bindings', () => {
    expect(full.map(keyOf).sort()).toEqual(SPECS.map(specKey).sort());
  });

  it('the order is stable between requests', async () => {
    const again = (await list()).json.data as Item[];
    expect(again.map(keyOf)).toEqual(full.map(keyOf));
  });

  it('page_size=4: 6 pages, 4+4+4+4+4+3, union = the full list, in order, no duplicates', async () => {
    const { pages, items } = await allPages(4);
    expect(pages.map((p) => p.length)).toEqual([4, 4, 4, 4, 4, 3]);
    expect(items.map(keyOf)).toEqual(full.map(keyOf));
    expect(new Set(items.map(keyOf)).size).toBe(TOTAL);
    // The pages carry the same items as the full list, field for field.
    expect(items).toEqual(full);
  });

  it.each([1, 2, 3, 5, 7, 22, 23, 24, 1000])(
    'page_size=%i: nothing lost, nothing repeated, the last page has no next_start_key',
    async (size) => {
      const { pages, items } = await allPages(size);
      expect(items.map(keyOf)).toEqual(full.map(keyOf));
      expect(pages.length).toBe(Math.max(1, Math.ceil(TOTAL / size)));
    },
  );

  it('pages split the phones of one username (u05 on three contacts) without loss', async () => {
    const { pages } = await allPages(3);
    const u05 = pages.map((p) => p.filter((i) => i.username === 'u05').length);
    expect(u05.reduce((a, b) => a + b, 0)).toBe(3);
    // With page_size 3 the three u05 phones are not all on one page.
    expect(u05.filter((n) => n > 0).length).toBeGreaterThan(1);
  });

  it('paging combines with filters', async () => {
    const ua = UAS[1];
    const { items } = await allPages(2, `filter_user_agent=${encodeURIComponent(ua)}`);
    const expected = SPECS.filter((s) => s.ua === ua).map(specKey);
    expect(items.map(keyOf).sort()).toEqual(expected.sort());
    expect(new Set(items.map(keyOf)).size).toBe(expected.length);
  });

  describe('bad paging input: 400 in Kazoo validation format', () => {
    it.each([
      ['start_key', 'start_key=not-a-key'],
      ['start_key', `start_key=${Buffer.from('[1,2]').toString('base64url')}`],
      ['start_key', `start_key=${Buffer.from('{"a":1}').toString('base64url')}`],
      ['start_key', 'start_key=%E2%98%83'],
      ['page_size', 'page_size=0'],
      ['page_size', 'page_size=5000'],
      ['page_size', 'page_size=-1'],
      ['page_size', 'page_size=abc'],
      ['page_size', 'page_size=2.5'],
    ])('%s: ?%s', async (field, query) => {
      expectValidationError(await list(query), field, token);
    });
  });
});

describe('filters: filter_<key>=<value>', () => {
  const keysOf = (res: HttpResult) => (res.json.data as Item[]).map(keyOf).sort();

  it('filter_user_agent selects exactly the bindings of that agent (quotes and commas too)', async () => {
    for (const ua of UAS) {
      const res = await list(`filter_user_agent=${encodeURIComponent(ua)}`);
      const b = expectEnvelope(res, { status: 200, token });
      const expected = SPECS.filter((s) => s.ua === ua)
        .map(specKey)
        .sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(keysOf(res)).toEqual(expected);
      expect(b.page_size).toBe(expected.length);
      for (const i of b.data) expect(i.user_agent).toBe(ua);
    }
  });

  it('filter_username selects every phone of that username', async () => {
    const res = await list('filter_username=u05');
    expect(keysOf(res)).toEqual(
      SPECS.filter((s) => s.username === 'u05')
        .map(specKey)
        .sort(),
    );
    expect(res.json.data).toHaveLength(3);
    const u10 = await list('filter_username=u10');
    expect(keysOf(u10)).toEqual(
      SPECS.filter((s) => s.username === 'u10')
        .map(specKey)
        .sort(),
    );
  });

  it('filter_contact_ip selects exactly the bindings of that address', async () => {
    for (const ip of ['10.9.0.1', '10.9.0.2', '10.9.1.5']) {
      const res = await list(`filter_contact_ip=${ip}`);
      const expected = SPECS.filter((s) => s.ip === ip)
        .map(specKey)
        .sort();
      expect(expected.length).toBeGreaterThan(0);
      expect(keysOf(res)).toEqual(expected);
    }
  });

  it('several filters all apply', async () => {
    const res = await list(
      `filter_contact_ip=10.9.0.2&filter_user_agent=${encodeURIComponent(UAS[2])}`,
    );
    const expected = SPECS.filter((s) => s.ip === '10.9.0.2' && s.ua === UAS[2])
      .map(specKey)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(keysOf(res)).toEqual(expected);
  });

  it('a filter matching nothing: 200 with an empty list', async () => {
    const res = await list('filter_username=nobody-here');
    const b = expectEnvelope(res, { status: 200, token });
    expect(b.data).toEqual([]);
    expect(b.page_size).toBe(0);
    expect(b).not.toHaveProperty('next_start_key');
  });

  it("never returns another account's bindings", async () => {
    for (const q of [
      'filter_username=u01',
      `filter_contact_ip=10.9.0.2`,
      `filter_user_agent=${encodeURIComponent(UAS[0])}`,
    ]) {
      const res = await list(q);
      for (const i of res.json.data) expect(i.realm).toBe(PAGE.realm);
      expect(res.text).not.toContain(FOREIGN.realm);
    }
    // …and the other account sees only its own.
    const other = await http(
      api.url,
      'GET',
      `/v2/accounts/${FOREIGN.id}/registrations?filter_username=u01`,
      {
        token: foreignToken,
      },
    );
    expect(other.json.data.map((i: Item) => i.realm)).toEqual([FOREIGN.realm]);
  });

  it('an unknown filter key: 400 validation error naming it', async () => {
    expectValidationError(await list('filter_bogus=1'), 'filter_bogus', token);
  });
});

describe('Accept: text/csv', () => {
  let json: Item[];
  let rows: string[][];
  let res: HttpResult;
  beforeAll(async () => {
    json = (await list()).json.data;
    res = await list('', { accept: 'text/csv' });
    rows = parseCsv(res.text);
  });

  it('answers CSV: a header line, then one line per binding', () => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(res.headers.get('x-request-id')).toEqual(expect.any(String));
    const [header, ...lines] = rows;
    expect(new Set(header).size).toBe(header.length);
    for (const i of json) for (const k of Object.keys(i)) expect(header).toContain(k);
    expect(lines).toHaveLength(TOTAL);
    for (const l of lines) expect(l).toHaveLength(header.length);
  });

  it('each line carries the values of the JSON item (strings and numbers), in the same order', () => {
    const [header, ...lines] = rows;
    lines.forEach((line, n) => {
      const item = json[n];
      for (const [c, col] of header.entries()) {
        const v = item[col];
        if (typeof v === 'boolean') continue; // see the next test
        expect({ col, cell: line[c] }).toEqual({ col, cell: v === undefined ? '' : String(v) });
      }
    });
  });

  it('quoted fields round-trip: a user agent with quotes and a comma', () => {
    const [header, ...lines] = rows;
    const ua = header.indexOf('user_agent');
    expect(lines.filter((l) => l[ua] === UAS[2]).length).toBe(
      SPECS.filter((s) => s.ua === UAS[2]).length,
    );
  });

  it('booleans keep their value: suppress_unregister_notify is true/false, not 1/empty', () => {
    const [header, ...lines] = rows;
    const col = header.indexOf('suppress_unregister_notify');
    expect(col).toBeGreaterThanOrEqual(0);
    const cells = lines.map((l) => l[col]);
    expect(cells).toEqual(json.map((i) => String(i.suppress_unregister_notify)));
    expect(new Set(cells)).toEqual(new Set(['true', 'false']));
  });

  it('Accept is weighed by q: JSON preferred over CSV answers JSON, CSV preferred answers CSV', async () => {
    const j = await list('', { accept: 'application/json, text/csv;q=0.1' });
    expect(j.headers.get('content-type')).toMatch(/^application\/json/);
    expect(j.json.data).toHaveLength(TOTAL);
    const c = await list('', { accept: 'text/csv;q=0.9, application/json;q=0.5' });
    expect(c.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(parseCsv(c.text)).toHaveLength(TOTAL + 1);
  });

  it('filters apply to the CSV export too', async () => {
    const r = await list('filter_username=u05', { accept: 'text/csv' });
    const [, ...lines] = parseCsv(r.text);
    expect(lines).toHaveLength(3);
  });
});

describe('paging while phones register', () => {
  it('a phone registering between pages is listed once, nothing else is lost or repeated', async () => {
    const seen: Item[] = [];
    let startKey: string | undefined;
    let pageNo = 0;
    for (;;) {
      const q = `page_size=5${startKey ? `&start_key=${encodeURIComponent(startKey)}` : ''}`;
      const b = expectEnvelope(await list(q), { status: 200, token });
      seen.push(...b.data);
      pageNo++;
      if (pageNo === 2) {
        // u99 sorts after the cursor: it must show up on a later page.
        await h.broker.publish([
          kazooBinding({
            realm: PAGE.realm,
            username: 'u99',
            accountId: PAGE.id,
            contact: '<sip:u99@10.9.9.9:5060>',
            ts: nowS(),
          }),
        ]);
        await waitForLive(h.pool, PAGE.id, TOTAL + 1);
      }
      if (!b.next_start_key) break;
      startKey = b.next_start_key;
    }
    const keys = seen.map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.sort()).toEqual([...SPECS.map(specKey), 'u99|sip:u99@10.9.9.9:5060'].sort());
  });
});
