// Liberal scalar schemas: proxies send numbers as strings and strings as numbers (Kazoo's
// Proxy-Port is a string, Expires an integer; FreeSWITCH sends every header as a string).
import { z } from 'zod';

/** Says "required" for a missing field instead of zod's generic "Invalid input". */
const missing = (expected: string) => ({
  error: (issue: { input?: unknown }) =>
    issue.input === undefined ? 'required' : `expected ${expected}`,
});

export const looseInt = z
  .union(
    [
      z.number(),
      z
        .string()
        .trim()
        .regex(/^-?\d+(\.\d+)?$/, 'expected a number'),
    ],
    missing('a number'),
  )
  .transform((v) => Math.trunc(Number(v)));

export const looseNumber = z
  .union(
    [
      z.number(),
      z
        .string()
        .trim()
        .regex(/^-?\d+(\.\d+)?$/, 'expected a number'),
    ],
    missing('a number'),
  )
  .transform((v) => Number(v));

export const looseBool = z
  .union(
    [z.boolean(), z.enum(['true', 'false', 'TRUE', 'FALSE', 'True', 'False'])],
    missing('a boolean'),
  )
  .transform((v) => v === true || (typeof v === 'string' && v.toLowerCase() === 'true'));

/** NUL cannot be stored in text (Postgres refuses it): a stray one is dropped, not the event. */
const withoutNul = (v: string) => (v.includes('\u0000') ? v.split('\u0000').join('') : v);

/** A string field; numbers are accepted and turned into strings, empty strings become absent. */
export const looseString = z.union([z.string(), z.number()], missing('a string')).transform((v) => {
  if (typeof v === 'number') return String(v);
  const s = withoutNul(v);
  return s.trim() === '' ? undefined : s;
});

export const requiredString = z
  .union([z.string(), z.number()], missing('a string'))
  .transform((v) => withoutNul(String(v)).trim())
  .refine((v) => v.length > 0, 'must not be empty');

/** Port numbers: 0 or absent means unknown. */
export function port(v: number | undefined): number | undefined {
  return v && v > 0 && v < 65536 ? v : undefined;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}
