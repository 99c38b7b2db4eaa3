// Crossbar's request forms that reach a route only once rewritten (Fastify's rewriteUrl, before
// routing): every /v1/ path is its /v2/ twin (Kazoo 4.3 serves both from the same modules), and
// a POST carrying ?verb=DELETE|PUT|PATCH is that method (api_util:get_http_verb/2 via
// api_resource:determine_http_verb/2: "tunneling of verbs through the request").
import type { IncomingMessage } from 'node:http';

const KAZOO_PATH = /^\/v1(\/(?:accounts|registrations|api_auth)(?:[/?]|$))/;
const TUNNELLED = new Set(['DELETE', 'PUT', 'PATCH']);

/** The method and URL a Kazoo request stands for. */
export function kazooRequestOf(method: string, url: string): { method: string; url: string } {
  const v1 = KAZOO_PATH.exec(url);
  const path = v1 ? `/v2${url.slice(3)}` : url;
  if (method !== 'POST' || !path.startsWith('/v2/')) return { method, url: path };
  const q = path.indexOf('?');
  const verb = q < 0 ? null : new URLSearchParams(path.slice(q + 1)).get('verb');
  const tunnelled = verb?.toUpperCase();
  return { method: tunnelled && TUNNELLED.has(tunnelled) ? tunnelled : method, url: path };
}

/** Fastify's rewriteUrl: may also change the method, which the router reads next. */
export function rewriteKazooRequest(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const out = kazooRequestOf(req.method ?? 'GET', url);
  req.method = out.method;
  return out.url;
}
