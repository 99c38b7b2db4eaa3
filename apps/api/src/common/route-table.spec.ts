// The 405 tables read from route metadata answer what the hand-kept tables they replace
// answered (kazoo/kazoo-routes.ts's regex list, the sipXcom and hosted-PBX refusal handlers).
// Kazoo: cb_registrations:allowed_methods/0,1 (GET, DELETE on the collection; GET on count;
// DELETE on a username), cb_api_auth:allowed_methods/0 (PUT).
import { Controller, Delete, Get } from '@nestjs/common';
import { allowedMethods } from '../kazoo/kazoo-routes';
import { SipxcomRegistrationsController } from '../sipxcom/sipxcom-registrations.controller';
import { ExtensionRegistrationsController } from '../extensions/extension-registrations.controller';
import { ReservedParamValues, RouteTable } from './route-table';

const A = '/v2/accounts/0123456789abcdef0123456789abcdef';

describe('Kazoo 405 table (from the Kazoo controllers)', () => {
  it.each<[string, string[] | undefined]>([
    ['/v2/api_auth', ['PUT']],
    ['/v2/api_auth/', ['PUT']],
    [`${A}/registrations`, ['GET', 'DELETE']],
    [`${A}/registrations/?paginate=false`, ['GET', 'DELETE']],
    [`${A}/registrations/count`, ['GET']],
    [`${A}/registrations/changes`, ['GET', 'DELETE']],
    [`${A}/registrations/history`, ['GET', 'DELETE']],
    [`${A}/registrations/alice`, ['DELETE']],
    ['/v2/registrations', ['GET']],
    ['/v2/registrations/count', ['GET']],
    // Not Kazoo's (console, change schema) or not a path at all: a 404.
    [`${A}/registrations/x/y`, undefined],
    [`${A}/registrations/stats/live`, undefined],
    [`${A}/registrations/changes/position`, undefined],
    ['/v2/registrations/changes/schema', undefined],
    ['/v2/console/health', undefined],
    ['/v2//registrations', undefined],
    ['/readyz', undefined],
  ])('%s → %j', (url, allowed) => {
    expect(allowedMethods(url)).toEqual(allowed);
  });
});

describe('sipXcom 405 table', () => {
  const table = RouteTable.of([SipxcomRegistrationsController], { head: true });
  const BASE = '/sipxconfig/api/registrations';
  it.each<[string, string[] | undefined]>([
    [BASE, ['GET', 'HEAD']],
    [`${BASE}/`, ['GET', 'HEAD']],
    ...[
      'user/1001',
      'serialNo/0004f2a1b2c3',
      'ip/10.0.0.1',
      'callId/x',
      'callid/x',
      'server/x',
    ].map((p): [string, string[]] => [`${BASE}/${p}`, ['GET', 'HEAD', 'DELETE']]),
    [`${BASE}/user`, undefined],
    [`${BASE}/nope/x`, undefined],
  ])('%s → %j', (url, allowed) => {
    expect(table.allowedMethods(url)).toEqual(allowed);
  });

  it('a refusal is a 405 with Allow on a known path, a 404 elsewhere', () => {
    const e = table.refusal('PUT', `${BASE}/user/1001`);
    expect([e.code, e.message, e.allowed]).toEqual([
      'method_not_allowed',
      'PUT is not allowed here',
      ['GET', 'HEAD', 'DELETE'],
    ]);
    const missing = table.refusal('GET', `${BASE}/nope?x=1`);
    expect([missing.code, missing.message]).toEqual(['not_found', `no resource ${BASE}/nope`]);
  });
});

describe('hosted-PBX 405 table', () => {
  const table = RouteTable.of([ExtensionRegistrationsController], { head: true });
  const API = '/api/ver1.0/extension';
  it.each<[string, string[] | undefined]>([
    [`${API}/registration`, ['GET', 'HEAD']],
    [`${API}/registration/`, ['GET', 'HEAD']],
    [`${API}/100/registration/`, ['GET', 'HEAD', 'DELETE']],
    [`${API}/100/registration/7`, ['DELETE']],
    [`${API}/100/registrations`, undefined],
  ])('%s → %j', (url, allowed) => {
    expect(table.allowedMethods(url)).toEqual(allowed);
  });
});

describe('RouteTable', () => {
  @Controller('r')
  class Example {
    @Get(['a/:id', 'b/:id'])
    get() {}
    @Delete('a/:id')
    @ReservedParamValues('id', ['special'])
    remove() {}
  }

  it('reads every path of a handler, and skips a route for its reserved values', () => {
    const table = RouteTable.of([Example], { head: false });
    expect(table.allowedMethods('/r/a/1')).toEqual(['GET', 'DELETE']);
    expect(table.allowedMethods('/r/b/1')).toEqual(['GET']);
    expect(table.allowedMethods('/r/a/special')).toEqual(['GET']);
    expect(table.allowedMethods('/r/a')).toBeUndefined();
  });
});
