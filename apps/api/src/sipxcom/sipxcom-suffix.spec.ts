// The .json / .xml suffixes of sipXconfig's jaxrs-server.xml extensionMappings.
import type { IncomingMessage } from 'node:http';
import { rewriteSipxcomSuffix } from './sipxcom-suffix';

const req = (url: string, accept?: string) =>
  ({ url, headers: accept ? { accept } : {} }) as IncomingMessage;

describe('rewriteSipxcomSuffix', () => {
  it.each([
    ['/sipxconfig/api/registrations.xml', '/sipxconfig/api/registrations', 'application/xml'],
    [
      '/sipxconfig/api/registrations/user/200.json?start=0&limit=2',
      '/sipxconfig/api/registrations/user/200?start=0&limit=2',
      'application/json',
    ],
    [
      '/sipxconfig/api/registrations/ip/10.0.0.1.XML',
      '/sipxconfig/api/registrations/ip/10.0.0.1',
      'application/xml',
    ],
  ])('%s → %s (%s)', (url, rewritten, accept) => {
    const r = req(url, 'text/html');
    expect(rewriteSipxcomSuffix(r)).toBe(rewritten);
    expect(r.headers.accept).toBe(accept);
  });

  it('leaves other paths and suffix-less ones alone', () => {
    for (const url of [
      '/v2/accounts/x/registrations.json',
      '/sipxconfig/api/registrations?x=.xml',
    ]) {
      const r = req(url, 'text/csv');
      expect(rewriteSipxcomSuffix(r)).toBe(url);
      expect(r.headers.accept).toBe('text/csv');
    }
  });
});
