import { BadRequestException } from '@nestjs/common';
import type { DeadLetterFilter } from './admin-streams.service';

/** Longest stream name, user id or session id accepted, in characters. */
const MAX_NAME = 256;

/** A stream name from the URL: 1 to 256 characters, no braces (they would change its hash tag). */
export function streamName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME || /[{}\s]/.test(value)) {
    throw new BadRequestException(`stream must be 1 to ${MAX_NAME} characters without braces or spaces`);
  }
  return value;
}

/** A stream entry id (`1700000000000-0`). */
export function entryId(value: unknown, what = 'id'): string {
  if (typeof value !== 'string' || !/^\d{1,20}-\d{1,20}$/.test(value)) {
    throw new BadRequestException(`${what} must be a stream entry id like 1700000000000-0`);
  }
  return value;
}

/** A page size from the query string: 1 to `max` (default `fallback`). */
export function pageSize(value: unknown, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < 1 || n > max) {
    throw new BadRequestException(`limit must be an integer from 1 to ${max}`);
  }
  return n;
}

/** A user id or session id from the URL: 1 to 256 characters, no spaces or braces. */
export function identifier(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME || /[{}\s]/.test(value)) {
    throw new BadRequestException(`${what} must be 1 to ${MAX_NAME} characters without braces or spaces`);
  }
  return value;
}

/**
 * The body of a bulk redrive or delete: `{ "all": true }` or `{ "filter": { "error"?: string, "group"?: string } }`
 * with at least one field (never an accidental "everything").
 */
export function bulkFilter(body: unknown): DeadLetterFilter {
  const b = (body ?? {}) as { all?: unknown; filter?: unknown };
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException('give a JSON body: {"all": true} or {"filter": {"error": "...", "group": "..."}}');
  }
  if (b.all === true && b.filter === undefined) return {};
  const f = b.filter as Record<string, unknown> | undefined;
  if (b.all !== undefined || typeof f !== 'object' || f === null || Array.isArray(f)) {
    throw new BadRequestException('give either {"all": true} or {"filter": {"error": "...", "group": "..."}}');
  }
  const unknownField = Object.keys(f).find((k) => k !== 'error' && k !== 'group');
  if (unknownField) throw new BadRequestException(`filter.${unknownField} is not a filter (use error, group)`);
  const filter: DeadLetterFilter = {};
  for (const key of ['error', 'group'] as const) {
    const v = f[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length === 0 || v.length > 1_024) {
      throw new BadRequestException(`filter.${key} must be a string of 1 to 1024 characters`);
    }
    filter[key] = v;
  }
  if (Object.keys(filter).length === 0) throw new BadRequestException('filter needs error or group');
  return filter;
}
