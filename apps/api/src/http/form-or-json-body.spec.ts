import { formOrJsonBody } from './form-or-json-body';

describe('formOrJsonBody', () => {
  it('reads JSON sent as a form (curl -d, as Kazoo scripts do)', () => {
    expect(formOrJsonBody('{"data":{"api_key":"abc+def=="}}')).toEqual({
      data: { api_key: 'abc+def==' },
    });
    expect(formOrJsonBody('  [1, 2]\n')).toEqual([1, 2]);
  });

  it('reads a real form as its fields', () => {
    expect(formOrJsonBody('api_key=abc%20def&x=1')).toEqual({ api_key: 'abc def', x: '1' });
  });

  it('a body that only looks like JSON is read as a form', () => {
    expect(formOrJsonBody('{"data":')).toEqual({ '{"data":': '' });
  });

  it('refuses JSON that would poison prototypes, as Fastify does for application/json', () => {
    expect(() => formOrJsonBody('{"__proto__":{"admin":true}}')).toThrow(SyntaxError);
    expect(() => formOrJsonBody('{"constructor":{"prototype":{"admin":true}}}')).toThrow(
      SyntaxError,
    );
  });

  it('an empty body is an empty form', () => {
    expect(formOrJsonBody('')).toEqual({});
  });
});
