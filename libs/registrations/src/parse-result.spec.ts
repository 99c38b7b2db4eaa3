import { MessageRejected, parseJsonObject, rejected } from './parse-result';

describe('parseJsonObject', () => {
  it('returns the object of a JSON object body (string or Buffer)', () => {
    expect(parseJsonObject('{"a":1}')).toEqual({ a: 1 });
    expect(parseJsonObject(Buffer.from('{"Realm":"é.example"}', 'utf8'))).toEqual({
      Realm: 'é.example',
    });
  });

  it.each([
    ['not json', 'not json'],
    ['array', '[1]'],
    ['null', 'null'],
    ['number', '42'],
    ['string', '"x"'],
    ['empty', ''],
  ])('rejects %s as not_json', (_name, body) => {
    const r = parseJsonObject(body);
    expect(r).toBeInstanceOf(MessageRejected);
    expect((r as MessageRejected).code).toBe('not_json');
  });
});

describe('rejected', () => {
  it('carries the code and detail, and a message naming both', () => {
    const r = rejected('invalid_contact', 'Contact "x" holds no SIP URI');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(Error);
    expect(r.error.code).toBe('invalid_contact');
    expect(r.error.message).toBe('invalid_contact: Contact "x" holds no SIP URI');
  });
});
