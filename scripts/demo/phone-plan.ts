// What the demo's phones do in one cycle: the ones that left come back (a new registration),
// about a fifth of the others unregister, and the rest refresh. Pure, so it is unit-tested.

export interface CyclePlan {
  /** Phones (indexes) that send a REGISTER: `coming` (new bindings) and `refreshing`. */
  register: Set<number>;
  coming: number[];
  refreshing: number[];
  /** Phones that send REGISTER with Expires: 0. */
  leaving: number[];
}

/**
 * The next cycle for `count` phones of which `registered` hold a binding. The first cycle
 * (nothing registered) registers everyone. `random` returns [0, 1) (Math.random by default).
 */
export function planCycle(
  count: number,
  registered: ReadonlySet<number>,
  random: () => number = Math.random,
): CyclePlan {
  const coming: number[] = [];
  const staying: number[] = [];
  for (let i = 0; i < count; i++) (registered.has(i) ? staying : coming).push(i);
  // A fifth of those registered leave, at least one when two or more are registered (so every
  // cycle shows an unregister), never the ones that only now come back.
  const leaveCount = staying.length >= 2 ? Math.max(1, Math.round(staying.length / 5)) : 0;
  const shuffled = [...staying];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  const leaving = shuffled.slice(0, leaveCount).sort((a, b) => a - b);
  const gone = new Set(leaving);
  const refreshing = staying.filter((i) => !gone.has(i));
  return { register: new Set([...coming, ...refreshing]), coming, refreshing, leaving };
}

/** The registered set after a cycle whose runs all succeeded. */
export function afterCycle(plan: CyclePlan): Set<number> {
  return new Set([...plan.coming, ...plan.refreshing]);
}
