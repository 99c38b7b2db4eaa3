// The console's only link to the server: Kazoo-envelope JSON over fetch with X-Auth-Token. The
// token is the one thing kept, in sessionStorage (gone with the tab); a 401 signs out.

const TOKEN_KEY = 'registrations-console.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type SignedOutListener = (reason: string) => void;
const signedOut = new Set<SignedOutListener>();
export function onSignedOut(l: SignedOutListener): () => void {
  signedOut.add(l);
  return () => signedOut.delete(l);
}

export interface Envelope<T> {
  data: T;
  next_start_key?: string;
  [k: string]: unknown;
}

export async function request<T>(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; accept?: string } = {},
): Promise<Envelope<T>> {
  const res = await send(method, path, opts);
  return (await res.json()) as Envelope<T>;
}

/** The raw response (CSV); errors are thrown as ApiError. */
export async function send(
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; accept?: string } = {},
): Promise<Response> {
  const token = opts.token ?? storedToken();
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
  if (token) headers['x-auth-token'] = token;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  if (res.ok) return res;
  let message = `${res.status} ${res.statusText}`;
  try {
    const b = (await res.json()) as { message?: string; data?: unknown };
    const data = b.data as { message?: unknown } | string | null | undefined;
    const detail =
      data === undefined || data === null
        ? ''
        : typeof data === 'string'
          ? data
          : typeof data.message === 'string'
            ? data.message
            : JSON.stringify(data);
    message = [...new Set([b.message ?? '', detail])].filter((x) => x && x !== '{}').join(': ');
  } catch {
    // not JSON: keep the status line
  }
  if (res.status === 401 && opts.token === undefined) {
    storeToken(null);
    for (const l of signedOut) l('Your session ended (401): sign in again.');
  }
  throw new ApiError(res.status, message);
}

export interface Session {
  account_id: string;
  account_name: string | null;
  realm: string | null;
  is_superadmin: boolean;
  accounts: { id: string; name: string | null; realm: string | null; parent_id: string | null }[];
}

/**
 * Signs in with an API key (64 hex digits: exchanged at PUT /v2/api_auth) or a token (this
 * product's, or a Kazoo one: passed through as X-Auth-Token). Returns the token, checked.
 */
export async function signIn(secret: string): Promise<{ token: string; session: Session }> {
  const s = secret.trim();
  let token = s;
  if (/^[0-9a-f]{64}$/i.test(s)) {
    try {
      const r = await request<{ account_id: string }>('PUT', '/v2/api_auth', {
        body: { data: { api_key: s } },
        token: '',
      });
      token = r.auth_token as string;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 401) throw e;
      // not an API key: try it as a token
    }
  }
  const r = await request<Session>('GET', '/v2/console/session', { token });
  return { token, session: r.data };
}

export const accountPath = (accountId: string) =>
  `/v2/accounts/${encodeURIComponent(accountId)}/registrations`;
