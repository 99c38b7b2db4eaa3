// Kazoo's response envelope (api-dialects.md A): every success and every error carries
// auth_token, request_id, revision, node, version, timestamp and status; errors add the HTTP
// code as a string in `error` and a short `message`.
import { createHash } from 'node:crypto';
import * as os from 'node:os';

export const API_VERSION = '4.3-compatible (registrations-service 0.1.0)';
const NODE = Buffer.from(`registrations@${os.hostname()}`).toString('base64');

export interface EnvelopeContext {
  authToken?: string;
  requestId: string;
}

/**
 * `fingerprint`: a short string that changes whenever `data` does (e.g. ids and event times of a
 * page), hashed instead of the serialised data so a large list is not serialised twice.
 */
export function envelope(
  ctx: EnvelopeContext,
  data: unknown,
  extra: Record<string, unknown> = {},
  fingerprint?: string,
) {
  return {
    auth_token: ctx.authToken ?? '',
    data,
    ...extra,
    node: NODE,
    request_id: ctx.requestId,
    revision: revisionOf(fingerprint ?? data),
    status: 'success',
    timestamp: new Date().toISOString(),
    version: API_VERSION,
  };
}

const DATA_SLOT = '\u0000data\u0000';
const DATA_SLOT_JSON = JSON.stringify(DATA_SLOT);

/** envelope() as JSON text, around `dataJson`: data already serialised (as Postgres built it). */
export function envelopeJson(
  ctx: EnvelopeContext,
  dataJson: string,
  extra: Record<string, unknown>,
  fingerprint: string,
): string {
  const text = JSON.stringify(envelope(ctx, DATA_SLOT, extra, fingerprint));
  const at = text.indexOf(DATA_SLOT_JSON);
  return text.slice(0, at) + dataJson + text.slice(at + DATA_SLOT_JSON.length);
}
export function errorEnvelope(
  ctx: EnvelopeContext,
  status: number,
  message: string,
  data: unknown,
) {
  return {
    auth_token: ctx.authToken ?? '',
    data,
    error: String(status),
    message,
    node: NODE,
    request_id: ctx.requestId,
    status: 'error',
    timestamp: new Date().toISOString(),
    version: API_VERSION,
  };
}

/** A content hash, as Kazoo's revision changes with the document. */
function revisionOf(data: unknown): string {
  return createHash('md5')
    .update(typeof data === 'string' ? data : (JSON.stringify(data) ?? ''))
    .digest('hex');
}

/** An error a Kazoo client understands: HTTP status, Kazoo's message code and data. */
export class KazooError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly data: unknown,
  ) {
    super(code);
  }

  static invalidCredentials() {
    return new KazooError(401, 'invalid_credentials', { message: 'invalid credentials' });
  }
  static forbidden() {
    return new KazooError(403, 'forbidden', { message: 'forbidden' });
  }
  static badIdentifier(cause: string) {
    return new KazooError(404, 'bad_identifier', { cause, message: 'bad identifier' });
  }
  static invalidMethod() {
    return new KazooError(405, 'invalid_method', { message: 'method not allowed' });
  }
  /** 400: `{"<field>": {"<rule>": {"message": "…"}}}`. */
  static validation(field: string, rule: string, message: string) {
    return new KazooError(400, 'validation error', { [field]: { [rule]: { message } } });
  }
  static unavailable(message: string) {
    return new KazooError(503, 'service_unavailable', { message });
  }

  /** crossbar cb_context:add_system_error(datastore_unreachable, _): the database away. */
  static datastoreUnreachable() {
    return new KazooError(503, 'datastore_unreachable', { message: 'datastore timeout' });
  }
}
