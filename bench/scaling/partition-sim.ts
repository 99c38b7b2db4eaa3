// npm run bench:scaling-sim: figures for docs/scaling.md, computed, not measured on a cluster.
// 100,000 Kamailio AORs (the bench's phones, 100 accounts) are routed by their reg_success
// routing key as RabbitMQ's consistent-hash exchange would (a ring of `weight` points per bound
// queue), then split again inside an instance into lanes by a hash of the AOR. Prints:
// - partition balance: the largest partition against the mean, for several partition counts and
//   ring weights;
// - leases: how many partitions and AORs move when an instance joins or leaves, with
//   least-movement rebalancing of partition leases;
// - lanes: how evenly a 1,000-event batch splits over N lanes (the largest lane sets its pace).
import { createHash } from 'node:crypto';
import { keys } from '@app/messaging/topology';
import { makePhones } from '../../scripts/traffic/traffic-generator';

const AORS = 100_000;
const phones = makePhones({ phones: AORS, realms: 100, fsShare: 0 });
const routingKeys = phones.map((p) => keys.regSuccess(p.realm, p.username));
const h32 = (s: string) => createHash('md5').update(s).digest().readUInt32BE(0);
const keyHash = routingKeys.map(h32);

/** Partition of each key on a ring with `weight` points per partition (x-consistent-hash). */
function ring(partitions: number, weight: number): Int32Array {
  const points: { at: number; p: number }[] = [];
  for (let p = 0; p < partitions; p++)
    for (let w = 0; w < weight; w++) points.push({ at: h32(`partition-${p}-${w}`), p });
  points.sort((a, b) => a.at - b.at);
  const out = new Int32Array(keyHash.length);
  keyHash.forEach((k, i) => {
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (points[mid].at < k) lo = mid + 1;
      else hi = mid;
    }
    out[i] = points[lo % points.length].p;
  });
  return out;
}

function balance(assign: Int32Array, n: number): number {
  const sizes = new Array<number>(n).fill(0);
  for (const p of assign) sizes[p]++;
  return Math.max(...sizes) / (assign.length / n);
}

console.log(
  `${AORS.toLocaleString('en-US')} AORs, routing keys registration.success.<realm>.<user>`,
);
console.log('partition balance (largest partition / mean):');
for (const partitions of [16, 64, 256])
  console.log(
    `  ${partitions} partitions: ` +
      [1, 10, 100]
        .map((w) => `weight ${w} → ${balance(ring(partitions, w), partitions).toFixed(2)}`)
        .join(', '),
  );

/** Least-movement lease rebalancing: each instance keeps what it has up to its fair share. */
function rebalance(owner: number[], instances: number[]): number[] {
  const fair = Math.ceil(owner.length / instances.length);
  const count = new Map<number, number>(instances.map((i) => [i, 0]));
  const next = owner.map((o) => {
    const c = count.get(o);
    if (c !== undefined && c < fair) {
      count.set(o, c + 1);
      return o;
    }
    return -1;
  });
  return next.map((o) => {
    if (o >= 0) return o;
    const [least] = [...count].sort((a, b) => a[1] - b[1])[0];
    count.set(least, count.get(least)! + 1);
    return least;
  });
}

const P = 64;
const assign = ring(P, 100);
const perPartition = new Array<number>(P).fill(0);
for (const p of assign) perPartition[p]++;
console.log(`leases over ${P} partitions (weight 100), least-movement rebalancing:`);
let owner = rebalance(new Array<number>(P).fill(-1), [0, 1, 2]);
for (const [label, instances] of [
  ['3 → 4 instances', [0, 1, 2, 3]],
  ['4 → 3 instances (one lost)', [0, 1, 3]],
  ['3 → 6 instances', [0, 1, 3, 4, 5, 6]],
] as const) {
  const next = rebalance(owner, [...instances]);
  const moved = next.filter((o, p) => o !== owner[p]);
  const aorsMoved = next.reduce((n, o, p) => n + (o !== owner[p] ? perPartition[p] : 0), 0);
  const per = new Map<number, number>();
  for (const o of next) per.set(o, (per.get(o) ?? 0) + 1);
  console.log(
    `  ${label}: ${moved.length} partitions move (${((moved.length / P) * 100).toFixed(0)} %), ` +
      `${((aorsMoved / AORS) * 100).toFixed(1)} % of AORs change instance; partitions per instance ` +
      `${Math.min(...per.values())}–${Math.max(...per.values())}`,
  );
  owner = next;
}

console.log('lanes inside an instance: a batch of 1,000 consecutive events split by AOR hash:');
for (const lanes of [2, 4, 8]) {
  let worst = 0;
  let sum = 0;
  let batches = 0;
  for (let start = 0; start + 1000 <= AORS; start += 1000) {
    const sizes = new Array<number>(lanes).fill(0);
    for (let i = start; i < start + 1000; i++) sizes[keyHash[i] % lanes]++;
    const m = Math.max(...sizes) / (1000 / lanes);
    worst = Math.max(worst, m);
    sum += m;
    batches++;
  }
  console.log(
    `  ${lanes} lanes: largest lane / mean ${(sum / batches).toFixed(2)} on average, ${worst.toFixed(2)} at worst`,
  );
}
