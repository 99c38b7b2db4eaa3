// Serves the operator's console (web/, built by Vite into dist/console) at /console/.
// Hashed assets never change under their name: cached for a year, immutable. index.html names
// the current hashes, so it is revalidated on every load (no-cache).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/** Where the built console is: dist/console beside the compiled app, or under the repository. */
export function findConsoleDir(explicit?: string): string | undefined {
  const candidates = explicit
    ? [explicit]
    : [
        // compiled: dist/apps/api/src/console → dist/console
        resolve(__dirname, '../../../../console'),
        // from sources (ts-node, jest): apps/api/src/console → dist/console
        resolve(__dirname, '../../../../dist/console'),
      ];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

export async function registerConsoleAssets(
  app: NestFastifyApplication,
  explicitDir?: string,
): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const dir = findConsoleDir(explicitDir);
  if (!dir) {
    fastify.get('/console', async (_req, reply) =>
      reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send('The console is not built: run `npm run build` (or `npm run build:console`).\n'),
    );
    return;
  }
  // (@fastify/static is typed against the root fastify; Nest's adapter has its own fastify 5.)
  await app.register(
    fastifyStatic as unknown as Parameters<NestFastifyApplication['register']>[0],
    {
      root: dir,
      prefix: '/console/',
      decorateReply: false,
      cacheControl: false,
      index: false,
      setHeaders: (reply: { header(name: string, value: string): unknown }, path: string) => {
        reply.header(
          'cache-control',
          path.startsWith(join(dir, 'assets')) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    },
  );
  // The page itself (/console and /console/ alike: the router ignores a trailing slash). Read
  // on each request: it is small, and a rebuild is served without a restart.
  fastify.get('/console', async (_req, reply) =>
    reply
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(await readFile(join(dir, 'index.html'))),
  );
}
