// The ack watermark against the plain definition: after any settle, the tag to multiple-ack up
// to is the end of the longest run of settled deliveries from the first one not acked yet; a
// delivery not settled is never covered, and once all are settled all are acked.
import fc from 'fast-check';
import { AckWatermark } from './ack-watermark';

it('acks nothing while the first delivery is unsettled, then up to just below the next unsettled one', () => {
  const w = new AckWatermark<number>();
  const slots = [1, 2, 3, 4, 5].map((tag) => w.track(tag));
  expect(w.settle([slots[1], slots[2]])).toBeUndefined();
  expect(w.settle([slots[0]])).toBe(3);
  expect(w.settle([slots[4]])).toBeUndefined();
  expect(w.settle([slots[3]])).toBe(5);
  expect(w.size).toBe(0);
});

it('settling again what was settled acks nothing more', () => {
  const w = new AckWatermark<number>();
  const slots = [1, 2].map((tag) => w.track(tag));
  expect(w.settle([slots[0]])).toBe(1);
  expect(w.settle([slots[0]])).toBeUndefined();
  expect(w.settle([slots[1]])).toBe(2);
});

it('property: any deliveries settled in any batches and order are acked exactly up to the first unsettled one', () => {
  fc.assert(
    fc.property(
      // Each delivery's batch (a lane's batch), and the order the batches commit in.
      fc.array(fc.nat(7), { minLength: 1, maxLength: 300 }),
      fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
      (batchOf, commitKey) => {
        const w = new AckWatermark<number>();
        const slots = batchOf.map((_, tag) => w.track(tag));
        const settled = new Set<number>();
        let acked = -1;
        const order = [...new Set(batchOf)].sort((a, b) => commitKey[a] - commitKey[b]);
        for (const batch of order) {
          const tags = batchOf.flatMap((b, tag) => (b === batch ? [tag] : []));
          for (const t of tags) settled.add(t);
          const upTo = w.settle(tags.map((t) => slots[t]));
          let expected = acked;
          while (settled.has(expected + 1)) expected++;
          expect(upTo).toBe(expected > acked ? expected : undefined);
          acked = expected;
        }
        expect(acked).toBe(batchOf.length - 1);
        expect(w.size).toBe(0);
      },
    ),
  );
});
