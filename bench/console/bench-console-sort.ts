// The console list's sorts with 100,000 live bindings in the account (npm run bench:console-sort):
// for every sort key and both orders, EXPLAIN (ANALYZE, BUFFERS) of the first page and of a page
// deep in the list (after the 50,000th row), what plan each takes (index range or top-N over the
// account's live bindings), and the API's answer time for the first page (median of 5). Postgres
// executes the statement exactly as the API sends it (livePageStatement).
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { livePageStatement, ListQuery, SORT_KEYS } from '@app/persistence';
import { DEMO_ACCOUNT, DEMO_DATABASE_URL, startDemo } from '../../scripts/support/console-demo';

const BINDINGS = Number(process.env.CONSOLE_BENCH_BINDINGS ?? 100_000);
const PAGE = 50;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface PlanNode {
  'Node Type': string;
  'Sort Method'?: string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}

interface Plan {
  'Execution Time': number;
  Plan: PlanNode;
}

/** The plan's node types, outermost first (e.g. Limit > Sort > Index Scan). */
function nodes(p: PlanNode): string[] {
  const sort = p['Sort Method'] ? ` (${p['Sort Method']})` : '';
  const index = p['Index Name'] ? ` ${p['Index Name']}` : '';
  return [`${p['Node Type']}${sort}${index}`, ...(p.Plans ?? []).flatMap(nodes)];
}

async function main(): Promise<void> {
  const demo = await startDemo(BINDINGS, 2_000);
  const pool = new Pool({ connectionString: DEMO_DATABASE_URL, max: 1 });
  try {
    console.log(`data: ${BINDINGS.toLocaleString('en')} live bindings in one account`);
    console.log('sort | order | first page ms | buffers | deep page ms | plan | API first page ms');
    for (const key of SORT_KEYS)
      for (const desc of [false, true]) {
        const q = (after?: string[]): ListQuery => ({
          accountId: DEMO_ACCOUNT.id,
          filters: {},
          limit: PAGE + 1,
          sort: { key, desc, after },
        });
        const explain = async (lq: ListQuery) => {
          const { text, values } = livePageStatement(lq);
          const r = await pool.query<{ 'QUERY PLAN': [Plan] }>(
            `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`,
            values,
          );
          return r.rows[0]['QUERY PLAN'][0];
        };
        // The sort key of the 50,000th row: where a deep page starts.
        const { text, values } = livePageStatement({ ...q(), limit: BINDINGS / 2 });
        const rows = (await pool.query<{ sortKey: string[] }>(text, values)).rows;
        const first = await explain(q());
        const deep = await explain(q(rows[rows.length - 1].sortKey));
        const times: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          const res = await fetch(
            `${demo.url}/v2/console/accounts/${DEMO_ACCOUNT.id}/bindings?sort=${key}&order=${desc ? 'desc' : 'asc'}&page_size=${PAGE}`,
            { headers: { 'x-auth-token': demo.token } },
          );
          if (res.status !== 200) throw new Error(`${key}: ${res.status} ${await res.text()}`);
          await res.arrayBuffer();
          times.push(performance.now() - t0);
        }
        const buffers =
          (first.Plan['Shared Hit Blocks'] ?? 0) + (first.Plan['Shared Read Blocks'] ?? 0);
        console.log(
          [
            key,
            desc ? 'desc' : 'asc',
            first['Execution Time'].toFixed(1),
            buffers,
            deep['Execution Time'].toFixed(1),
            nodes(first.Plan).join(' > '),
            median(times).toFixed(1),
          ].join(' | '),
        );
      }
  } finally {
    await pool.end();
    await demo.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
