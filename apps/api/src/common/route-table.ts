// The 405 table of a dialect, read from its controllers' route metadata (the @Controller and
// @Get/@Delete… paths and methods Nest registers with Fastify) instead of kept by hand beside
// them: a path some route of another method matches is a 405 with those methods in Allow.
import { RequestMethod, SetMetadata, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { ApiError } from './api-error';

/** The order methods are listed in an Allow header. */
const METHOD_ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const RESERVED_METADATA = 'api:reserved-param-values';
const REFUSAL_METADATA = 'api:refusal';

interface Reserved {
  param: string;
  values: readonly string[];
}

/**
 * On a handler: values of one of its path parameters that it refuses with a 405, because they
 * name another resource (Kazoo's `count` beside `:username`). Its route does not count for them.
 */
export const ReservedParamValues = (param: string, values: readonly string[]) =>
  SetMetadata<string, Reserved>(RESERVED_METADATA, { param, values });

/** On a handler that only refuses (405/404): not a method of its path. */
export const Refusal = () => SetMetadata(REFUSAL_METADATA, true);

interface Route {
  method: string;
  segments: string[];
  /** Segment index → values this route does not stand for. */
  reserved: Map<number, ReadonlySet<string>>;
}

export class RouteTable {
  private constructor(
    private readonly routes: Route[],
    private readonly head: boolean,
  ) {}

  /**
   * @param head whether HEAD is listed wherever GET is (Fastify answers HEAD for every GET
   *   route; sipXcom and hosted PBX list it, Kazoo's crossbar does not)
   */
  static of(controllers: readonly Type[], opts: { head: boolean }): RouteTable {
    const routes: Route[] = [];
    for (const controller of controllers) {
      const prefixes = pathsOf(Reflect.getMetadata(PATH_METADATA, controller));
      const proto = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const handler = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
        if (typeof handler !== 'function' || name === 'constructor') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        // ALL is a catch-all (unknown paths), not a resource's method.
        if (method === undefined || path === undefined || method === RequestMethod.ALL) continue;
        if (Reflect.getMetadata(REFUSAL_METADATA, handler) === true) continue;
        const reserved = Reflect.getMetadata(RESERVED_METADATA, handler) as Reserved | undefined;
        for (const prefix of prefixes)
          for (const p of pathsOf(path)) {
            const segments = `${prefix}/${p}`.split('/').filter((x) => x !== '');
            if (segments.includes('*')) continue;
            const at = reserved ? segments.indexOf(`:${reserved.param}`) : -1;
            routes.push({
              method: RequestMethod[method],
              segments,
              reserved: new Map(at < 0 ? [] : [[at, new Set(reserved!.values)]]),
            });
          }
      }
    }
    return new RouteTable(routes, opts.head);
  }

  /** The methods allowed on a path (query string and trailing slash ignored), or undefined when no route has it. */
  allowedMethods(url: string): string[] | undefined {
    const segments = segmentsOf(url.split('?')[0]);
    if (segments === undefined) return undefined;
    const methods = new Set(this.routes.filter((r) => matches(r, segments)).map((r) => r.method));
    if (methods.size === 0) return undefined;
    if (this.head && methods.has('GET')) methods.add('HEAD');
    return METHOD_ORDER.filter((m) => methods.has(m));
  }

  /** What a request no handler took answers: 405 on a known path, else 404. */
  refusal(method: string, url: string): ApiError {
    const allowed = this.allowedMethods(url);
    return allowed
      ? ApiError.methodNotAllowed(method, allowed)
      : ApiError.notFound(`no resource ${url.split('?')[0]}`);
  }
}

function pathsOf(metadata: unknown): string[] {
  if (Array.isArray(metadata)) return metadata.map(String);
  return [typeof metadata === 'string' ? metadata : '/'];
}

/** A request path's segments; one trailing slash is ignored, as the router does. */
function segmentsOf(path: string): string[] | undefined {
  if (!path.startsWith('/')) return undefined;
  const inner = path.slice(1).replace(/\/$/, '');
  return inner === '' ? [] : inner.split('/');
}

function matches(route: Route, segments: string[]): boolean {
  if (route.segments.length !== segments.length) return false;
  return route.segments.every((s, i) =>
    s.startsWith(':')
      ? segments[i] !== '' && !route.reserved.get(i)?.has(segments[i])
      : s === segments[i],
  );
}
