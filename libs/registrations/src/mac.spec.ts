// A phone's MAC (sipXcom's `instrument`, its serialNo lookups) comes from the RFC 5626 instance
// id desk phones send, or failing that from the User-Agent. Stored as 12 lower-case hex digits.
import { deriveMac, macFromInstance, macFromUserAgent, normaliseMac } from './mac';

describe('macFromInstance', () => {
  it('reads the MAC from urn:uuid:00000000-0000-1000-8000-<MAC>, in brackets as sent', () => {
    expect(macFromInstance('<urn:uuid:00000000-0000-1000-8000-001565AABBCC>')).toBe('001565aabbcc');
  });

  it('accepts the urn without brackets and in any case', () => {
    expect(macFromInstance('URN:UUID:00000000-0000-1000-8000-001565aAbBcC')).toBe('001565aabbcc');
    expect(macFromInstance(' urn:uuid:00000000-0000-1000-8000-0004f2123456 ')).toBe('0004f2123456');
  });

  it('does not take the tail of a random (v4) uuid for a MAC', () => {
    expect(macFromInstance('<urn:uuid:f81d4fae-7dec-41d0-a765-00a0c91e6bf6>')).toBeUndefined();
  });

  it('gives undefined for other instance ids and for none', () => {
    expect(macFromInstance('<urn:gsma:imei:35209900-176148-1>')).toBeUndefined();
    expect(macFromInstance('')).toBeUndefined();
    expect(macFromInstance(undefined)).toBeUndefined();
  });
});

describe('macFromUserAgent', () => {
  it('finds a colon-separated MAC', () => {
    expect(macFromUserAgent('Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc')).toBe('001565aabbcc');
  });

  it('finds a dash-separated upper-case MAC', () => {
    expect(macFromUserAgent('Phone/1.0 MAC 00-15-65-AA-BB-CC build 7')).toBe('001565aabbcc');
  });

  it('finds a parenthesised MAC', () => {
    expect(macFromUserAgent('Cisco/SPA504G-7.6.2c (001565AABBCC)')).toBe('001565aabbcc');
  });

  it('finds a bare 12-hex token that has a letter in it', () => {
    expect(macFromUserAgent('Grandstream GXP2160 1.0.9.108 000b82aabbcc')).toBe('000b82aabbcc');
  });

  it('does not take a 12-digit number (a phone number) for a MAC', () => {
    expect(macFromUserAgent('MyPhone 491701234567')).toBeUndefined();
    expect(macFromUserAgent('491701234567')).toBeUndefined();
  });

  it('does not take 12 hex digits inside a longer token', () => {
    expect(macFromUserAgent('build-001565aabbccdd')).toBeUndefined();
    expect(macFromUserAgent('x 001565aabbccdd')).toBeUndefined();
  });

  it('gives undefined for user agents without a MAC', () => {
    expect(macFromUserAgent('harness-sipp/3.6.1 (kazoo-registrar-harness)')).toBeUndefined();
    expect(macFromUserAgent('PolycomVVX-VVX_410-UA/5.9.0.9373')).toBeUndefined();
    expect(macFromUserAgent(undefined)).toBeUndefined();
  });
});

describe('normaliseMac', () => {
  it.each([
    ['00-15-65-AA-BB-CC'],
    ['00:15:65:aa:bb:cc'],
    ['0015.65aa.bbcc'],
    ['001565AABBCC'],
    [' 001565aabbcc '],
  ])('normalises %s to 001565aabbcc', (input) => {
    expect(normaliseMac(input)).toBe('001565aabbcc');
  });

  it.each([['00156aabbcc'], ['001565aabbccd'], ['00156g aabbcc'], ['']])('rejects %j', (input) => {
    expect(normaliseMac(input)).toBeUndefined();
  });
});

describe('deriveMac', () => {
  it('prefers the instance id over the User-Agent', () => {
    expect(
      deriveMac('<urn:uuid:00000000-0000-1000-8000-001565AABBCC>', 'Phone 00:11:22:33:44:55'),
    ).toBe('001565aabbcc');
  });

  it('falls back to the User-Agent', () => {
    expect(
      deriveMac('<urn:uuid:f81d4fae-7dec-41d0-a765-00a0c91e6bf6>', 'Phone 00:11:22:33:44:5a'),
    ).toBe('00112233445a');
    expect(deriveMac(undefined, 'Phone (00112233445A)')).toBe('00112233445a');
  });

  it('gives undefined when neither has one', () => {
    expect(deriveMac(undefined, undefined)).toBeUndefined();
  });
});
