// Query and path parameters of the hosted-PBX API: extension ids (repeated `extension_id`, or
// comma-separated) and the page of the full list (`page` from 1, `per_page` up to 1000).
import { ApiError } from '../common/api-error';

export const DEFAULT_PER_PAGE = 100;
export const MAX_PER_PAGE = 1000;

export function extensionIdOf(v: string): number {
  if (!/^\d{1,9}$/.test(v) || Number(v) < 1)
    throw ApiError.badRequest(`extension_id must be a positive integer: ${v}`);
  return Number(v);
}

/** A registration_id as this API gives it: the binding's id, digits. */
export function registrationIdOf(v: string): number {
  if (!/^\d{1,18}$/.test(v) || !Number.isSafeInteger(Number(v)) || Number(v) < 1)
    throw ApiError.badRequest(`registration_id must be a registration_id this API listed: ${v}`);
  return Number(v);
}

/** The ids asked for, each once in the order given; undefined when none was given. */
export function extensionIdsOf(raw: unknown): number[] | undefined {
  if (raw === undefined) return undefined;
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) =>
    typeof v === 'string' ? v.split(',') : [JSON.stringify(v)],
  );
  return [...new Set(values.map((v) => extensionIdOf(v.trim())))];
}

export function pageOf(query: Record<string, unknown>): { offset: number; limit: number } {
  const int = (name: string, fallback: number, max: number): number => {
    const v = query[name];
    if (v === undefined) return fallback;
    if (typeof v !== 'string' || !/^\d{1,9}$/.test(v) || Number(v) < 1 || Number(v) > max)
      throw ApiError.badRequest(`${name} must be an integer from 1 to ${max}, given once`);
    return Number(v);
  };
  const perPage = int('per_page', DEFAULT_PER_PAGE, MAX_PER_PAGE);
  const page = int('page', 1, 1e9);
  return { offset: (page - 1) * perPage, limit: perPage };
}
