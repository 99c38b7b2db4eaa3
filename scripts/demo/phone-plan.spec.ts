import { afterCycle, planCycle } from './phone-plan';

/** A deterministic [0, 1) sequence (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

it('the first cycle registers every phone and nobody leaves', () => {
  const p = planCycle(5, new Set());
  expect(p.coming).toEqual([0, 1, 2, 3, 4]);
  expect(p.refreshing).toEqual([]);
  expect(p.leaving).toEqual([]);
  expect([...p.register].sort()).toEqual([0, 1, 2, 3, 4]);
});

it('then the ones that left come back, a fifth of the others leave, the rest refresh', () => {
  const random = seeded(7);
  let registered = afterCycle(planCycle(20, new Set(), random));
  for (let cycle = 0; cycle < 50; cycle++) {
    const p = planCycle(20, registered, random);
    const notRegistered = [...Array(20).keys()].filter((i) => !registered.has(i));
    expect(p.coming).toEqual(notRegistered);
    expect(p.leaving).toHaveLength(Math.round(registered.size / 5));
    for (const i of p.leaving) expect(registered.has(i)).toBe(true);
    // Every phone does exactly one thing.
    const all = [...p.coming, ...p.refreshing, ...p.leaving].sort((a, b) => a - b);
    expect(all).toEqual([...Array(20).keys()]);
    expect(p.register).toEqual(new Set([...p.coming, ...p.refreshing]));
    registered = afterCycle(p);
  }
});

it('with few phones there is still an unregister every cycle, and one phone just refreshes', () => {
  expect(planCycle(2, new Set([0, 1]), () => 0).leaving).toHaveLength(1);
  expect(planCycle(3, new Set([0, 1, 2]), () => 0.5).leaving).toHaveLength(1);
  const one = planCycle(1, new Set([0]));
  expect(one.leaving).toEqual([]);
  expect(one.refreshing).toEqual([0]);
});
