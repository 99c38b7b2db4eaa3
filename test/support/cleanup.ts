// Whatever the harnesses start (apps, broker connections, pools, data sources, Kamailio) is
// registered here as it starts, so that what a test file leaves open — its beforeAll failed
// before the file kept a handle, or its afterAll threw half-way — is closed when the file ends
// (by test/support/e2e-environment.ts), before the next file starts. Nothing outlives its file:
// a leaked ingest app would stay the single active consumer of the test queues and take the
// next files' messages.
//
// The registry lives on the test file's global object (one per file), under a Symbol.for key,
// so the environment (outside the file's module registry) can reach it.
export const OPEN_RESOURCES = Symbol.for('registrations.test.open-resources');

export interface OpenResource {
  label: string;
  /** False once the file closed it itself (then the sweep leaves it alone). */
  isOpen(): boolean;
  close(): Promise<unknown>;
}

function registry(): Set<OpenResource> {
  const g = globalThis as unknown as Record<symbol, Set<OpenResource> | undefined>;
  return (g[OPEN_RESOURCES] ??= new Set());
}

/** Registers something to close at the end of the file unless `isOpen` says it was closed. */
export function closeAtFileEnd(
  label: string,
  close: () => Promise<unknown>,
  isOpen: () => boolean,
): void {
  registry().add({ label, close, isOpen });
}

/** A Nest app (a Proxy: its methods cannot be replaced), open while its HTTP server listens. */
export function closeAppAtFileEnd<A extends NestLike>(label: string, app: A): A {
  closeAtFileEnd(
    label,
    () => app.close(),
    () => app.getHttpServer().listening,
  );
  return app;
}

interface NestLike {
  close(): Promise<void>;
  getHttpServer(): { listening: boolean };
}

type CloseMethod<T> = {
  [K in keyof T]: T[K] extends () => Promise<unknown> ? K : never;
}[keyof T];

/**
 * Registers a plain object until its `method` (close, end, stop) is called. The method is made
 * idempotent on this instance: the file's own afterAll and the end-of-file sweep may both call
 * it, and the second call gets the first one's promise.
 */
export function closeAtEnd<T extends object>(
  label: string,
  resource: T,
  method: CloseMethod<T>,
): T {
  const original = (resource[method] as () => Promise<unknown>).bind(resource);
  let closing: Promise<unknown> | undefined;
  const close = (): Promise<unknown> => (closing ??= original());
  (resource as Record<PropertyKey, unknown>)[method] = close;
  closeAtFileEnd(label, close, () => closing === undefined);
  return resource;
}
