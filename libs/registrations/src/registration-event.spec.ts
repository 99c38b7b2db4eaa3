import { isFlush, keyOf, ProxyEvent } from './registration-event';

describe('keyOf', () => {
  it('compares realm and username without case, the contact URI exactly', () => {
    expect(keyOf('Acme.SIP.example.net', 'Alice', 'sip:alice@10.0.0.5')).toBe(
      keyOf('acme.sip.example.net', 'alice', 'sip:alice@10.0.0.5'),
    );
    expect(keyOf('acme.sip.example.net', 'alice', 'sip:Alice@10.0.0.5')).not.toBe(
      keyOf('acme.sip.example.net', 'alice', 'sip:alice@10.0.0.5'),
    );
  });
});

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
