// Which representation answers an Accept header (sipXcom: JSON or XML; Kazoo list: JSON or CSV).
import { negotiate } from './content-negotiation';

describe('negotiate', () => {
  it.each([
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['*/*', 'application/json'],
    ['application/json', 'application/json'],
    ['application/xml', 'application/xml'],
    ['text/xml', 'text/xml'],
    ['Application/XML; charset=utf-8', 'application/xml'],
    ['application/xml, */*', 'application/xml'],
    ['text/xml, application/json;q=0.5', 'text/xml'],
    ['application/json, text/xml', 'application/json'],
    ['application/json;q=0, */*', 'application/xml'],
    ['text/html', 'application/json'],
  ])('Accept %p gives %s', (accept, contentType) => {
    expect(negotiate(accept).contentType).toBe(contentType);
  });
});

describe('negotiate between JSON and CSV (the Kazoo list)', () => {
  const offers = [{ contentType: 'application/json' }, { contentType: 'text/csv' }];
  it.each([
    [undefined, 'application/json'],
    ['*/*', 'application/json'],
    ['text/csv', 'text/csv'],
    ['text/csv; charset=utf-8', 'text/csv'],
    ['text/*', 'text/csv'],
    ['application/json, text/csv;q=0.1', 'application/json'],
    ['text/csv;q=0.9, application/json;q=0.5', 'text/csv'],
    ['text/csv;q=0, */*', 'application/json'],
    ['application/xml', 'application/json'],
  ])('Accept %p gives %s', (accept, contentType) => {
    expect(negotiate(accept, offers).contentType).toBe(contentType);
  });
});
