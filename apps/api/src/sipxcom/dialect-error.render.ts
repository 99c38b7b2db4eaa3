// How the sipXcom and hosted-PBX dialects render the shared ApiError codes: the status, and a
// body `{"error": "<code>", "message": "<text>"}` whose `error` is the dialect's own name for
// the code.
import type { ApiError, ApiErrorCode } from '../common/api-error';

export interface DialectRendering {
  status: number;
  body: { error: string; message: string };
  headers: Record<string, string | string[]>;
}

const DIALECT_CODE: Readonly<Record<ApiErrorCode, string>> = {
  invalid_input: 'bad_request',
  unauthenticated: 'unauthorized',
  forbidden: 'forbidden',
  not_found: 'not_found',
  method_not_allowed: 'method_not_allowed',
  too_many_requests: 'too_many_requests',
  unavailable: 'service_unavailable',
};

export function renderDialectError(e: ApiError): DialectRendering {
  const headers: Record<string, string | string[]> = { ...e.headers };
  if (e.code === 'method_not_allowed') headers.allow = (e.allowed ?? []).join(', ');
  return { status: e.status, body: { error: DIALECT_CODE[e.code], message: e.message }, headers };
}
