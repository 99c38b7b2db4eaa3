import { isFlush, ProxyEvent } from './registration-event';

describe('isFlush', () => {
  it('tells flush commands from registration events', () => {
    const flush: ProxyEvent = { kind: 'flush', realm: 'acme.sip.example.net', ours: false };
    const unregister: ProxyEvent = {
      kind: 'unregister',
      origin: 'kazoo',
      realm: 'acme.sip.example.net',
      username: '1001',
      originalContact: 'sip:1001@10.0.0.5',
      contactUri: 'sip:1001@10.0.0.5',
      expires: 0,
      eventUs: 1,
    };
    expect(isFlush(flush)).toBe(true);
    expect(isFlush(unregister)).toBe(false);
  });
});
