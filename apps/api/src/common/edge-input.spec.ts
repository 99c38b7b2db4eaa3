// The floor under every dialect's parsers: no NUL anywhere, no absurd lengths.
import fc from 'fast-check';
import { ApiError } from './api-error';
import {
  checkEdgeInput,
  EdgeInput,
  edgeInputSchema,
  MAX_PARAM_LENGTH,
  MAX_QUERY_REPEATS,
  MAX_QUERY_VALUE_LENGTH,
  passesQuickly,
} from './edge-input';

function errorOf(input: EdgeInput): ApiError {
  try {
    checkEdgeInput(input);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('checkEdgeInput', () => {
  it('lets ordinary requests through', () => {
    expect(() =>
      checkEdgeInput({
        params: { accountId: 'abc', username: 'alice' },
        query: { page_size: '10', extension_id: ['1', '2'] },
        headers: { accept: 'application/json', 'x-auth-token': 't' },
        body: { data: { api_key: 'k', list: [1, null, true, 'x'] } },
      }),
    ).not.toThrow();
    expect(() => checkEdgeInput({})).not.toThrow();
  });

  it.each<[string, EdgeInput, string]>([
    ['a path parameter', { params: { username: 'a\u0000' } }, 'username'],
    ['a query value', { query: { start: '\u0000' } }, 'start'],
    ['a repeated query value', { query: { extension_id: ['1', '2\u0000'] } }, 'extension_id'],
    ['a query name', { query: { 'filter_\u0000': 'x' } }, 'query'],
    ['a header', { headers: { 'last-event-id': '1\u0000' } }, 'last-event-id'],
    ['a body string', { body: { data: { api_key: '\u0000' } } }, 'body'],
    ['a body key', { body: { 'a\u0000': 1 } }, 'body'],
  ])('refuses a NUL in %s, naming it', (_where, input, field) => {
    const e = errorOf(input);
    expect(e).toMatchObject({ status: 400, code: 'invalid_input', field, rule: 'format' });
    expect(e.message).not.toContain('\u0000');
  });

  it('refuses a query value longer than its bound', () => {
    const e = errorOf({ query: { start_key: 'a'.repeat(MAX_QUERY_VALUE_LENGTH + 1) } });
    expect(e).toMatchObject({ status: 400, field: 'start_key', rule: 'maxLength' });
  });

  it('refuses a body nested deeper than 32 levels', () => {
    let body: unknown = 'x';
    for (let i = 0; i < 40; i++) body = [body];
    expect(errorOf({ body }).field).toBe('body');
  });
});

describe('passesQuickly', () => {
  // Strings near every bound, with and without NUL.
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.constantFrom('', '\u0000', 'a\u0000'),
    fc
      .constantFrom(MAX_PARAM_LENGTH, MAX_QUERY_VALUE_LENGTH)
      .chain((n) => fc.integer({ min: n - 1, max: n + 1 }).map((m) => 'a'.repeat(m))),
  );
  const value = fc.oneof(
    text,
    fc.array(text, { maxLength: 3 }),
    fc.constant(Array<string>(MAX_QUERY_REPEATS + 1).fill('1')),
    fc.constantFrom(undefined, null, 1, {}),
  );
  const record = fc.option(fc.dictionary(text, value, { maxKeys: 3 }), { nil: undefined });
  const input = fc.record({
    params: record,
    query: record,
    headers: record,
    body: fc.option(fc.jsonValue(), { nil: undefined }),
  }) as fc.Arbitrary<EdgeInput>;

  it('accepts exactly what the schema accepts', () => {
    fc.assert(
      fc.property(input, (x) => passesQuickly(x) === edgeInputSchema.safeParse(x).success),
      { numRuns: 3000, seed: 13 },
    );
  });
});
