// The Kazoo paths and the methods each accepts: any other method is 405 (not 404). `count` is
// the only sub-resource Kazoo reserves; DELETE on …/changes or …/history flushes a SIP user of
// that name.
export const KAZOO_ROUTES: { path: RegExp; methods: string[] }[] = [
  { path: /^\/v2\/api_auth\/?$/, methods: ['PUT'] },
  { path: /^\/v2\/accounts\/[^/]+\/registrations\/?$/, methods: ['GET', 'DELETE'] },
  { path: /^\/v2\/accounts\/[^/]+\/registrations\/count\/?$/, methods: ['GET'] },
  { path: /^\/v2\/accounts\/[^/]+\/registrations\/changes\/?$/, methods: ['GET', 'DELETE'] },
  { path: /^\/v2\/accounts\/[^/]+\/registrations\/history\/?$/, methods: ['GET', 'DELETE'] },
  { path: /^\/v2\/accounts\/[^/]+\/registrations\/[^/]+\/?$/, methods: ['DELETE'] },
  { path: /^\/v2\/registrations\/count\/?$/, methods: ['GET'] },
  { path: /^\/v2\/registrations\/reconcile\/?$/, methods: ['POST'] },
  { path: /^\/v2\/registrations\/?$/, methods: ['GET'] },
];

/** The methods allowed on a known path, or undefined when the path is not ours. */
export function allowedMethods(url: string): string[] | undefined {
  const path = url.split('?')[0];
  return KAZOO_ROUTES.find((r) => r.path.test(path))?.methods;
}
