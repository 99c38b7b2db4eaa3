// Token buckets of the PUT /v2/api_auth rate limit, on a clock the test moves.
import { TokenBuckets } from './api-auth-rate-limiter';

describe('TokenBuckets', () => {
  let now = 0;
  const buckets = () => new TokenBuckets(60, () => now); // 60 a minute: one a second

  beforeEach(() => (now = 1_000_000));

  it('grants a minute of burst, then says how long to wait', () => {
    const b = buckets();
    for (let i = 0; i < 60; i++) expect(b.take('a')).toBeUndefined();
    expect(b.take('a')).toBeCloseTo(1, 5);
    now += 500;
    expect(b.take('a')).toBeCloseTo(0.5, 5);
    now += 500;
    expect(b.take('a')).toBeUndefined();
  });

  it('keeps one bucket per name', () => {
    const b = buckets();
    for (let i = 0; i < 60; i++) b.take('a');
    expect(b.take('a')).toBeDefined();
    expect(b.take('b')).toBeUndefined();
  });

  it('refills no more than its capacity', () => {
    const b = buckets();
    b.take('a');
    now += 3_600_000;
    for (let i = 0; i < 60; i++) expect(b.take('a')).toBeUndefined();
    expect(b.take('a')).toBeDefined();
  });
});
