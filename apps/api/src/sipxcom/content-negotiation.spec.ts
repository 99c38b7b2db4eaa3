// Which representation sipXcom's registrations API answers for an Accept header.
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
