// Generated requests (fast-check, fixed seed) over every route of every dialect — Kazoo, the
// change feed, history, sipXcom, hosted PBX, health, and every operation /openapi.json
// documents (so routes added later are covered too) — with every method, any path segment,
// query names and values, headers, credentials and bodies, valid ones mixed in so that handlers
// and their SQL are reached. Each answer: no 5xx, no stack trace, no database text; and the
// server is still ready at the end. FUZZ_REQUESTS sets the count (2,000 in `npm test`; the
// issue's run is 10,000), FUZZ_SEED the seed.
import fc from 'fast-check';
import { kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { basic, bearer, DialectHarness, TestAccount } from '../dialects/dialect-harness';

const RUNS = Number(process.env.FUZZ_REQUESTS ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);

let h: DialectHarness;
let acme: TestAccount;
let root: TestAccount;
/** Values taken from real answers (paging keys, extension ids…), so the fuzz reaches deep. */
/** Every operation the app documents (/openapi.json): routes added later are generated too. */
const documented: { template: string; methods: string[]; queryNames: string[] }[] = [];
const real = {
  startKeys: [] as string[],
  historyKeys: [] as string[],
  extensionIds: [] as string[],
  seqs: ['0', '1'] as string[],
};

const STACK_OR_DB_TEXT =
  /\n\s+at |\.ts:\d+|node_modules|QueryFailedError|postgres|pg_|SQLSTATE|syntax error|invalid input syntax|invalid byte sequence|violates|out of range for|relation "|column "|duplicate key|typeorm/i;

beforeAll(async () => {
  h = await DialectHarness.start('fuzz');
  root = await h.account('root', { isSuperadmin: true });
  acme = await h.account('acme', { parentId: root.id });
  const ts = nowS() - 30;
  const users = ['1001', '1002', '1003', 'alice', 'bob'];
  await h.broker.publish([
    ...users.map((u, i) =>
      kazoo({
        realm: acme.realm,
        username: u,
        accountId: acme.id,
        ts: ts + i,
        contact: `<sip:${u}@192.0.2.${10 + i}:5060>`,
        callId: `fuzz-${u}`,
      }),
    ),
    // Ended: history to page through.
    kazoo({
      realm: acme.realm,
      username: 'bob',
      accountId: acme.id,
      ts: ts + 10,
      expires: 0,
      contact: '<sip:bob@192.0.2.14:5060>',
      callId: 'fuzz-bob',
    }),
  ]);
  await eventually(
    () => h.liveIds(acme.realm),
    (ids) => ids.length === 4,
    { what: 'the seeded bindings' },
  );
  const doc = (await h.request('GET', '/openapi.json')).json as {
    paths: Record<string, Record<string, { parameters?: { in: string; name: string }[] }>>;
  };
  for (const [template, ops] of Object.entries(doc.paths)) {
    const methods = Object.keys(ops)
      .filter((m) => ['get', 'put', 'post', 'patch', 'delete', 'head'].includes(m))
      .map((m) => m.toUpperCase());
    const queryNames = [
      ...new Set(
        Object.values(ops).flatMap((o) =>
          (o.parameters ?? []).filter((x) => x.in === 'query').map((x) => x.name),
        ),
      ),
    ];
    if (methods.length) documented.push({ template, methods, queryNames });
  }
  expect(documented.length).toBeGreaterThanOrEqual(10);
  const list = await h.request('GET', `/v2/accounts/${acme.id}/registrations?page_size=1`, {
    'x-auth-token': acme.token,
  });
  if (list.json?.next_start_key) real.startKeys.push(list.json.next_start_key as string);
  const hist = await eventually(
    () =>
      h.request('GET', `/v2/accounts/${acme.id}/registrations/history?page_size=1`, {
        'x-auth-token': acme.token,
      }),
    (r) => r.status === 200 && (r.json?.data?.length ?? 0) > 0,
    { what: 'the history of bob' },
  );
  if (hist.json?.next_start_key) real.historyKeys.push(hist.json.next_start_key as string);
  const pbx = await h.request('GET', '/api/ver1.0/extension/registration', bearer(acme.token));
  for (const e of (pbx.json?.data ?? pbx.json ?? []) as { extension_id?: number }[])
    if (e?.extension_id !== undefined) real.extensionIds.push(String(e.extension_id));
}, 120_000);

afterAll(async () => {
  await h?.stop();
});

// ---- the generators -------------------------------------------------------------------------

const NASTY = [
  '',
  '\u0000',
  'a\u0000b',
  '%00',
  '99999999999999999999',
  '-1',
  '0',
  '1e309',
  'NaN',
  '9007199254740993',
  '2147483648',
  '1.5',
  ' ',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  'toString',
  "' OR 1=1 --",
  '"; DROP TABLE registrations; --',
  '\\',
  '%',
  '%zz',
  '%C0%80',
  '%ED%A0%80',
  '../../etc/passwd',
  '2024-02-31T00:00:00Z',
  '63000000000',
  '0000-00-00',
  '+275760-09-13T00:00:00Z',
  'é',
  '🙂',
  '\ud800',
  'x'.repeat(300),
  '1'.repeat(5000),
  Buffer.from('["a\\u0000","b","c"]').toString('base64url'),
  Buffer.from('["2024-01-01T00:00:00.000000Z","1"]').toString('base64url'),
  Buffer.from('[1,2,3]').toString('base64url'),
  Buffer.from('{"__proto__":{"x":1}}').toString('base64url'),
];

/** Text for a value: nasty, real, or random (any code point, lone surrogates included). */
const anyText = (realOnes: () => string[] = () => []) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 2, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String) },
    { weight: 1, arbitrary: fc.nat({ max: 2000 }).map(String) },
    {
      weight: 2,
      arbitrary: fc.nat().map((i) => {
        const pool = realOnes();
        return pool.length ? pool[i % pool.length] : '1';
      }),
    },
  );

/** Percent-encodes text for a URL; text encodeURIComponent refuses (lone surrogates) goes raw. */
function enc(s: string, raw: boolean): string {
  if (raw)
    return s.replace(/[\s#?/&=]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
}

const segment = (realOnes?: () => string[]) =>
  fc.tuple(anyText(realOnes), fc.boolean()).map(([s, raw]) => enc(s, raw) || 'x');

const accountSegment = fc.oneof(
  fc.constant(null).map(() => acme.id),
  fc.constant(null).map(() => root.id),
  fc.constant('0123456789abcdef0123456789abcdef'),
  fc.constant('0123456789ABCDEF0123456789ABCDEF'),
  segment(),
);

const ROUTES: fc.Arbitrary<{ path: string; queryNames: string[]; methods: string[] }>[] = [
  fc.constant({ path: '/v2/api_auth', queryNames: [], methods: ['PUT'] }),
  accountSegment.map((a) => ({
    path: `/v2/accounts/${a}/registrations`,
    queryNames: [
      'page_size',
      'start_key',
      'filter_username',
      'filter_realm',
      'filter_contact_ip',
      'filter_expires',
      'filter_toString',
      'filter_x',
    ],
    methods: ['GET', 'DELETE'],
  })),
  accountSegment.map((a) => ({
    path: `/v2/accounts/${a}/registrations/count`,
    queryNames: [],
    methods: ['GET'],
  })),
  fc
    .tuple(
      accountSegment,
      segment(() => ['1001', 'alice', 'nobody']),
    )
    .map(([a, u]) => ({
      path: `/v2/accounts/${a}/registrations/${u}`,
      queryNames: ['check_sync'],
      methods: ['DELETE'],
    })),
  fc.constant({ path: '/v2/registrations/count', queryNames: [], methods: ['GET'] }),
  accountSegment.map((a) => ({
    path: `/v2/accounts/${a}/registrations/history`,
    queryNames: [
      'username',
      'contact_ip',
      'reason',
      'created_from',
      'created_to',
      'page_size',
      'start_key',
    ],
    methods: ['GET'],
  })),
  accountSegment.map((a) => ({
    path: `/v2/accounts/${a}/registrations/changes`,
    queryNames: ['since', 'auth_token'],
    methods: ['GET'],
  })),
  fc.constant({ path: '/v2/registrations/changes/schema', queryNames: [], methods: ['GET'] }),
  fc.constant({
    path: '/sipxconfig/api/registrations',
    queryNames: ['start', 'limit'],
    methods: ['GET', 'HEAD'],
  }),
  fc
    .tuple(
      fc.constantFrom('user', 'serialNo', 'ip', 'callId', 'callid', 'server', 'mac'),
      segment(() => ['1001', `1001@${acme.realm}`, '192.0.2.10', 'fuzz-1001', '001565a1b2c3']),
    )
    .map(([kind, v]) => ({
      path: `/sipxconfig/api/registrations/${kind}/${v}`,
      queryNames: ['start', 'limit'],
      methods: ['GET', 'HEAD', 'DELETE'],
    })),
  fc.constant({
    path: '/api/ver1.0/extension/registration',
    queryNames: ['extension_id', 'page', 'per_page'],
    methods: ['GET', 'HEAD'],
  }),
  segment(() => real.extensionIds).map((id) => ({
    path: `/api/ver1.0/extension/${id}/registration`,
    queryNames: [],
    methods: ['GET', 'HEAD', 'DELETE'],
  })),
  fc.constantFrom('/healthz', '/readyz', '/metrics').map((path) => ({
    path,
    queryNames: [],
    methods: ['GET'],
  })),
  segment().map((s) => ({ path: `/${s}`, queryNames: [], methods: ['GET'] })),
];

/** A documented route, its {placeholders} (and wildcards) filled like the routes above. */
const documentedRoute = fc.nat().chain((i) => {
  const r = documented[i % documented.length];
  const holes = r.template.match(/\{[^}]+\}|\*/g) ?? [];
  return fc
    .tuple(...holes.map((hole) => (/account/i.test(hole) ? accountSegment : segment())))
    .map((values) => {
      let k = 0;
      const path = r.template.replace(/\{[^}]+\}|\*/g, () => values[k++]);
      return { path, queryNames: r.queryNames, methods: r.methods };
    });
});

const realValueFor = (name: string): string[] =>
  name === 'start_key'
    ? [...real.startKeys, ...real.historyKeys]
    : name === 'extension_id'
      ? real.extensionIds
      : name === 'since'
        ? real.seqs
        : name === 'reason'
          ? ['expired', 'flushed']
          : [];

// Mostly the credentials the route's dialect expects, so that handlers are reached.
const credentials = fc.oneof(
  { weight: 6, arbitrary: fc.constant('right') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'none',
      'token',
      'root-token',
      'bad-token',
      'basic',
      'bad-basic',
      'bearer',
      'bad-bearer',
      'query-token',
    ),
  },
);

/** The credentials a client of the path's dialect sends (root's for a quarter of them). */
function rightCredentials(path: string, rootToo: boolean): string {
  if (path.startsWith('/sipxconfig')) return 'basic';
  if (path.startsWith('/api/ver1.0')) return 'bearer';
  return rootToo ? 'root-token' : 'token';
}

const request = fc
  .record({
    route: fc.oneof(
      { weight: 4, arbitrary: fc.oneof(...ROUTES) },
      { weight: 1, arbitrary: documentedRoute },
    ),
    methodChoice: fc.oneof(
      { weight: 4, arbitrary: fc.constant('route') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE', 'OPTIONS'),
      },
    ),
    params: fc.array(
      fc.tuple(
        fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 9 }) }, { weight: 1, arbitrary: anyText() }),
        fc.option(anyText(), { nil: undefined }),
        fc.boolean(),
        fc.nat({ max: 3 }),
      ),
      { maxLength: 4 },
    ),
    credentials,
    accept: fc.constantFrom(
      undefined,
      'application/json',
      'text/csv',
      'application/xml',
      'text/xml',
      '*/*',
      'garbage/;;;',
    ),
    lastEventId: fc.option(
      anyText(() => real.seqs),
      { nil: undefined, freq: 6 },
    ),
    body: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      {
        weight: 2,
        arbitrary: fc
          .jsonValue()
          .map((v) => ({ type: 'application/json', text: JSON.stringify(v) ?? 'null' })),
      },
      {
        weight: 2,
        arbitrary: anyText().map((k) => ({
          type: 'application/json',
          text: JSON.stringify({ data: { api_key: k } }),
        })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom(
              'application/json',
              'application/x-www-form-urlencoded',
              'text/plain',
              'application/xml',
            ),
            fc.string({ unit: 'binary', maxLength: 60 }),
          )
          .map(([type, text]) => ({ type, text })),
      },
    ),
  })
  .map((r) => {
    const method = r.methodChoice === 'route' ? r.route.methods[0] : r.methodChoice;
    const query = r.params
      .map(([nameOrIndex, value, raw, pick]) => {
        const name =
          typeof nameOrIndex === 'number'
            ? (r.route.queryNames[nameOrIndex % Math.max(1, r.route.queryNames.length)] ?? 'q')
            : nameOrIndex;
        if (value === undefined) return `${enc(name, raw)}`;
        const realOnes = realValueFor(name);
        // Half the time a known parameter gets a value taken from a real answer.
        const v = realOnes.length && pick < 2 ? realOnes[pick % realOnes.length] : value;
        return `${enc(name, raw)}=${enc(v, raw)}`;
      })
      .join('&');
    return { ...r, method, url: `${r.route.path}${query ? `?${query}` : ''}` };
  });

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

function headersOf(r: Generated): Record<string, string> {
  const headers: Record<string, string> = {};
  const c =
    r.credentials === 'right' ? rightCredentials(r.url, r.url.length % 4 === 0) : r.credentials;
  if (c === 'token') headers['x-auth-token'] = acme.token;
  if (c === 'root-token') headers['x-auth-token'] = root.token;
  if (c === 'bad-token') headers['x-auth-token'] = 'not-a-token';
  if (c === 'basic') Object.assign(headers, basic(acme.apiKey));
  if (c === 'bad-basic') headers.authorization = 'Basic Og==';
  if (c === 'bearer') Object.assign(headers, bearer(acme.token));
  if (c === 'bad-bearer') headers.authorization = 'Bearer ';
  if (r.accept !== undefined) headers.accept = r.accept;
  // Header values are ISO-8859-1 on the wire: others are the client library's to refuse.
  if (r.lastEventId !== undefined && /^[\x20-\x7e]*$/.test(r.lastEventId))
    headers['last-event-id'] = r.lastEventId;
  if (r.body !== undefined) headers['content-type'] = r.body.type;
  return headers;
}

interface Answer {
  status: number;
  text: string;
}

/** One request; an event stream is read to its first chunk and closed (it never ends). */
async function send(r: Generated): Promise<Answer> {
  let url = `${h.url}${r.url}`;
  if (r.credentials === 'query-token')
    url += `${r.url.includes('?') ? '&' : '?'}auth_token=${acme.token}`;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 30_000);
  try {
    const res = await fetch(url, {
      method: r.method,
      headers: headersOf(r),
      body:
        r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD' ? r.body.text : undefined,
      signal: abort.signal,
    });
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      // (A HEAD answer has no body at all.)
      const first = res.body ? await res.body.getReader().read() : undefined;
      abort.abort();
      return { status: res.status, text: first?.value ? Buffer.from(first.value).toString() : '' };
    }
    return { status: res.status, text: await res.text() };
  } finally {
    clearTimeout(timer);
  }
}

it(`${RUNS} generated requests: no 5xx, no stack trace or database text, still ready`, async () => {
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const a = await send(r);
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      const where = `${r.method} ${r.url} (${r.credentials}) → ${a.status} ${a.text.slice(0, 300)}`;
      expect({ where, serverError: a.status >= 500 }).toEqual({ where, serverError: false });
      expect({ where, leaks: STACK_OR_DB_TEXT.test(a.text) }).toEqual({ where, leaks: false });
    }),
    { numRuns: RUNS, seed: SEED, endOnFailure: false, interruptAfterTimeLimit: undefined },
  );
  const ready = await h.request('GET', '/readyz');
  expect(ready.status).toBe(200);
  const count = await h.request('GET', `/v2/accounts/${acme.id}/registrations/count`, {
    'x-auth-token': acme.token,
  });
  expect(count.status).toBe(200);
  // Shown with --verbose: what the run reached, by status.
  process.stdout.write(
    `generated requests by status: ${JSON.stringify(Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0])))}\n`,
  );
}, 1_800_000);
