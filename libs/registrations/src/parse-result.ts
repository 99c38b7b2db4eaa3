// The outcome of reading one proxy message: a domain event, or the reason it can never be
// processed (which travels with it to the dead-letter queue).
import type { ProxyEvent } from './registration-event';

export type RejectCode =
  | 'not_json'
  | 'invalid_payload'
  | 'unknown_event'
  | 'invalid_contact'
  /** A value longer than the store can index (field-limits.ts). */
  | 'value_too_long';

export class MessageRejected extends Error {
  constructor(
    readonly code: RejectCode,
    readonly detail: string,
  ) {
    super(`${code}: ${detail}`);
  }
}

export type ParseResult = { ok: true; event: ProxyEvent } | { ok: false; error: MessageRejected };

export function rejected(code: RejectCode, detail: string): ParseResult {
  return { ok: false, error: new MessageRejected(code, detail) };
}

export function parseJsonObject(body: Buffer | string): Record<string, unknown> | MessageRejected {
  let value: unknown;
  try {
    value = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (e) {
    return new MessageRejected('not_json', (e as Error).message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return new MessageRejected('not_json', 'the body is not a JSON object');
  }
  return value as Record<string, unknown>;
}
