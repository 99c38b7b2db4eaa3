// The binding key and liveness rule the store and planner share.
import { aorCallKey, Binding, bindingKey, hasApplied, isLive, withApplied } from './binding';

const S = 1_000_000;

function binding(over: Partial<Binding> = {}): Binding {
  return {
    origin: 'kazoo',
    realm: 'acme.sip.example.net',
    username: '1001',
    originalContact: '<sip:1001@10.0.0.5:5060>',
    contactUri: 'sip:1001@10.0.0.5:5060',
    realmKey: 'acme.sip.example.net',
    usernameKey: '1001',
    expires: 600,
    eventUs: 100 * S,
    firstRegisteredUs: 100 * S,
    lastRegisteredUs: 100 * S,
    expiresUs: 700 * S,
    refreshCount: 0,
    ...over,
  };
}

describe('bindingKey', () => {
  it('joins the lower-cased realm and username keys with the contact URI', () => {
    const b = binding();
    expect(bindingKey(b)).toBe('acme.sip.example.net\u00001001\u0000sip:1001@10.0.0.5:5060');
  });

  it('differs by contact URI', () => {
    expect(bindingKey(binding())).not.toBe(
      bindingKey(binding({ contactUri: 'sip:1001@10.0.0.6:5060' })),
    );
  });

  it('cannot be confused by values that run into each other', () => {
    expect(bindingKey(binding({ realmKey: 'a', usernameKey: 'bc' }))).not.toBe(
      bindingKey(binding({ realmKey: 'ab', usernameKey: 'c' })),
    );
    expect(aorCallKey('a', 'bc', 'x')).not.toBe(aorCallKey('ab', 'c', 'x'));
  });
});

describe('isLive', () => {
  it('is live until last refresh + Expires', () => {
    const b = binding();
    expect(isLive(b, 100 * S)).toBe(true);
    expect(isLive(b, 700 * S - 1)).toBe(true);
    expect(isLive(b, 700 * S)).toBe(false);
  });

  it('is not live once ended, even before its expiry', () => {
    expect(isLive(binding({ endReason: 'unregistered', endedUs: 200 * S }), 300 * S)).toBe(false);
    expect(isLive(binding({ endReason: 'flushed', endedUs: 200 * S }), 150 * S)).toBe(false);
  });
});

describe('recent Msg-IDs', () => {
  it('keeps the newest four, newest first, and finds only whole ids', () => {
    let r: string | undefined;
    for (const id of ['a1', 'b22', 'c333', 'd4', 'e5']) r = withApplied(r, id);
    expect(r).toBe('e5 d4 c333 b22');
    expect(hasApplied({ recentMsgIds: r }, 'c333')).toBe(true);
    expect(hasApplied({ recentMsgIds: r }, 'b22')).toBe(true);
    expect(hasApplied({ recentMsgIds: r }, 'a1')).toBe(false);
    expect(hasApplied({ recentMsgIds: r }, 'c33')).toBe(false);
    expect(hasApplied({ recentMsgIds: r }, '333')).toBe(false);
    expect(hasApplied({ recentMsgIds: r }, undefined)).toBe(false);
    expect(hasApplied({ recentMsgIds: undefined }, 'e5')).toBe(false);
  });

  it('keeps a Msg-ID with a space as one id, and ignores a missing one', () => {
    expect(withApplied('x', 'a b')).toBe('a_b x');
    expect(hasApplied({ recentMsgIds: withApplied('x', 'a b') }, 'a b')).toBe(true);
    expect(withApplied('x', undefined)).toBe('x');
    expect(withApplied(undefined, 'y')).toBe('y');
  });
});
