// sipXconfig's JAX-RS server maps path suffixes to media types (jaxrs-server.xml
// extensionMappings: json → application/json, xml → application/xml): `…/registrations.xml`,
// `…/registrations/user/200.json`. Fastify's rewriteUrl strips the suffix before routing and
// sets Accept accordingly, as CXF does.
import type { IncomingMessage } from 'node:http';

const PREFIX = '/sipxconfig/api/';
const SUFFIX = /\.(json|xml)$/i;

export function rewriteSipxcomSuffix(req: IncomingMessage): string {
  const url = req.url ?? '/';
  if (!url.startsWith(PREFIX)) return url;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const m = SUFFIX.exec(path);
  if (!m) return url;
  req.headers.accept = m[1].toLowerCase() === 'xml' ? 'application/xml' : 'application/json';
  return path.slice(0, -m[0].length) + (q < 0 ? '' : url.slice(q));
}
