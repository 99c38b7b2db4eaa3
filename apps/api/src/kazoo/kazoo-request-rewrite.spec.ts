// Expectations from 2600hz/kazoo 4.3: applications/crossbar/src/api_util.erl get_http_verb/2
// (the request's `verb` value, upper-cased, replaces the method) and maybe_add_post_method/3
// (tunnelling is what a POST does); crossbar serves /v1 and /v2 from the same cb_ modules.
import { kazooRequestOf } from './kazoo-request-rewrite';

const ID = '0123456789abcdef0123456789abcdef';

it('/v1/ Kazoo paths are their /v2/ twins, query kept', () => {
  expect(kazooRequestOf('GET', `/v1/accounts/${ID}/registrations?page_size=2`)).toEqual({
    method: 'GET',
    url: `/v2/accounts/${ID}/registrations?page_size=2`,
  });
  expect(kazooRequestOf('GET', '/v1/registrations')).toEqual({
    method: 'GET',
    url: '/v2/registrations',
  });
  expect(kazooRequestOf('PUT', '/v1/api_auth').url).toBe('/v2/api_auth');
});

it('other paths are left alone', () => {
  for (const url of [
    '/v1x/accounts',
    '/v10/accounts/x',
    '/readyz',
    '/api/ver1.0/extension/1/registration/',
    '/v1/other',
  ])
    expect(kazooRequestOf('GET', url)).toEqual({ method: 'GET', url });
});

it('POST ?verb=delete is a DELETE (case-insensitive), on /v1 too', () => {
  expect(kazooRequestOf('POST', `/v2/accounts/${ID}/registrations/bob?verb=delete`)).toEqual({
    method: 'DELETE',
    url: `/v2/accounts/${ID}/registrations/bob?verb=delete`,
  });
  expect(kazooRequestOf('POST', `/v1/accounts/${ID}/registrations?verb=DELETE`).method).toBe(
    'DELETE',
  );
  expect(kazooRequestOf('POST', `/v2/api_auth?verb=PUT`).method).toBe('PUT');
});

it('only a POST tunnels, and only to a method that changes something', () => {
  expect(kazooRequestOf('GET', `/v2/accounts/${ID}/registrations?verb=DELETE`).method).toBe('GET');
  expect(kazooRequestOf('POST', `/v2/accounts/${ID}/registrations?verb=GET`).method).toBe('POST');
  expect(kazooRequestOf('POST', `/v2/accounts/${ID}/registrations?verb=`).method).toBe('POST');
  expect(kazooRequestOf('POST', `/v2/accounts/${ID}/registrations`).method).toBe('POST');
});
