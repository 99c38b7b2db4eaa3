// Which database failures are transient (retry the same batch later) rather than caused by
// the data (isolate and dead-letter the message).

/**
 * Another writer changed a binding between a batch's read and its write, again and again: the
 * batch is retried later as a whole (never dead-lettered for it).
 */
export class WriteConflict extends Error {}

const TRANSIENT_SQLSTATE_CLASSES = ['08', '53', '57', '58'];
const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '55P03', '55000']);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection error/i,
  /not queryable/i,
  /Connection is not established/i,
  /Query runner already released/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

export function isTransientDbError(e: unknown): boolean {
  if (e instanceof WriteConflict) return true;
  const err = e as { code?: string; driverError?: { code?: string }; message?: string } | undefined;
  const code = err?.driverError?.code ?? err?.code ?? '';
  if (TRANSIENT_NODE_CODES.has(code) || TRANSIENT_SQLSTATES.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2)))
    return true;
  const message = err?.message ?? '';
  return TRANSIENT_MESSAGES.some((re) => re.test(message));
}
