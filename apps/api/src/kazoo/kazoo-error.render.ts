// How Kazoo (and the console, which speaks Kazoo's envelope) renders the shared ApiError codes:
// crossbar's status, `message` and `data` for each (core/crossbar/src/cb_context.erl
// add_system_error/2,3 and add_validation_error/4, Kazoo 4.3). The envelope around them is
// kazoo-envelope.ts errorEnvelope().
import { ApiError, DATASTORE } from '../common/api-error';

export interface KazooRendering {
  status: number;
  /** The envelope's `message`: crossbar's error name. */
  message: string;
  data: unknown;
  headers: Record<string, string | string[]>;
}

export function renderKazooError(e: ApiError): KazooRendering {
  const headers: Record<string, string | string[]> = { ...e.headers };
  const as = (message: string, data: unknown): KazooRendering => ({
    status: e.status,
    message,
    data,
    headers,
  });
  switch (e.code) {
    case 'invalid_input':
      // add_validation_error: {"<field>": {"<rule>": {"message": …}}}
      return e.field === undefined
        ? as('invalid request', { message: e.message })
        : as('validation error', { [e.field]: { [e.rule ?? 'format']: { message: e.message } } });
    case 'unauthenticated':
      return as('invalid_credentials', { message: 'invalid credentials' });
    case 'forbidden':
      return as('forbidden', { message: 'forbidden' });
    case 'not_found':
      return as('bad_identifier', { cause: e.subject, message: 'bad identifier' });
    case 'method_not_allowed':
      headers.allow = (e.allowed ?? []).join(', ');
      return as('invalid_method', { message: 'method not allowed' });
    case 'too_many_requests':
      return as('too_many_requests', { message: e.message });
    case 'unavailable':
      // The database away: add_system_error(datastore_unreachable) — "datastore timeout".
      return e.subject === DATASTORE
        ? as('datastore_unreachable', { message: 'datastore timeout' })
        : as('service_unavailable', { message: e.message });
  }
}
