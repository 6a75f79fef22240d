import type { CanActivate, Type } from '@nestjs/common';
import type { Request } from 'express';
import { check } from '../core/option-checker';
import { DEFAULT_REDIS_CLIENT } from '../redis/redis.constants';

/** Who did an action, from the request: `req.user.username` by default. */
export type AdminWho = (request: Request) => string;

/** Options of `AdminModule.forRoot()` / `forRootAsync()`. Every duration is in milliseconds. */
export interface AdminModuleOptions {
  /**
   * The guard every route of the page and its API goes through (the app's: e.g. "logged in with an admin role").
   * Resolved from the application's providers when registered there, otherwise created by the module. Required
   * unless `allowUnguarded` is true.
   */
  guard?: Type<CanActivate>;
  /** Start without a guard (default false): only for a page reachable from a trusted network. */
  allowUnguarded?: boolean;
  /** Refuse every change (redrive, delete, revoke, clear) with 403 (default false). */
  readOnly?: boolean;
  /** Who did an action, for the action log (default: `req.user.username`, else `req.user.id`, else the IP). */
  who?: AdminWho;
  /** Name of the RedisModule client to inspect (default `default`). */
  clientName?: string;
  /** COUNT hint of each SCAN step (default 500). */
  scanCount?: number;
  /** Most locks and semaphores listed (default 500); the answer says when there were more. */
  maxListed?: number;
  /** Most dead letters one redrive or delete request handles (default 1000); call again for the rest. */
  maxPerRequest?: number;
  /** Dead letters redriven per second at most, across requests of this process (default 200). */
  redrivePerSecond?: number;
  /** Bound of each Redis call of the page (default 2000): a frozen Redis answers 503, never hangs the page. */
  commandTimeoutMs?: number;
}

/** Options after validation, defaults filled in. */
export interface ResolvedAdminOptions {
  /** See {@link AdminModuleOptions.guard}. */
  guard: Type<CanActivate> | undefined;
  /** See {@link AdminModuleOptions.readOnly}. */
  readOnly: boolean;
  /** See {@link AdminModuleOptions.who}. */
  who: AdminWho;
  /** See {@link AdminModuleOptions.clientName}. */
  clientName: string;
  /** See {@link AdminModuleOptions.scanCount}. */
  scanCount: number;
  /** See {@link AdminModuleOptions.maxListed}. */
  maxListed: number;
  /** See {@link AdminModuleOptions.maxPerRequest}. */
  maxPerRequest: number;
  /** See {@link AdminModuleOptions.redrivePerSecond}. */
  redrivePerSecond: number;
  /** See {@link AdminModuleOptions.commandTimeoutMs}. */
  commandTimeoutMs: number;
}

/** The default `who`: the user's username or id, else the client IP. */
export function defaultWho(request: Request): string {
  const user = (request as Request & { user?: { username?: unknown; id?: unknown } }).user;
  if (user && typeof user.username === 'string') return user.username;
  if (user && (typeof user.id === 'string' || typeof user.id === 'number')) return `user ${String(user.id)}`;
  return `anonymous (${request.ip ?? 'unknown address'})`;
}

/**
 * Validates AdminModule options; throws `RedisConfigError` naming the option (`admin.guard`). Without a guard the
 * module refuses to start unless `allowUnguarded` is true.
 */
export function resolveAdminOptions(options: AdminModuleOptions = {}): ResolvedAdminOptions {
  const o = (check.object('admin', options) ?? {}) as AdminModuleOptions;
  const allowUnguarded = check.boolean('admin.allowUnguarded', o.allowUnguarded) ?? false;
  if (o.guard !== undefined && typeof o.guard !== 'function') {
    check.fail('admin.guard', 'must be a guard class (a CanActivate provider)');
  }
  if (o.guard === undefined && !allowUnguarded) {
    check.fail(
      'admin.guard',
      'is required: give the guard that lets your operators in (or allowUnguarded: true for a trusted network)',
    );
  }
  if (o.who !== undefined && typeof o.who !== 'function')
    check.fail('admin.who', 'must be a function (request) => string');
  return {
    guard: o.guard,
    readOnly: check.boolean('admin.readOnly', o.readOnly) ?? false,
    who: o.who ?? defaultWho,
    clientName: check.string('admin.clientName', o.clientName) ?? DEFAULT_REDIS_CLIENT,
    scanCount: check.positiveInt('admin.scanCount', o.scanCount, { max: 100_000 }) ?? 500,
    maxListed: check.positiveInt('admin.maxListed', o.maxListed, { max: 100_000 }) ?? 500,
    maxPerRequest: check.positiveInt('admin.maxPerRequest', o.maxPerRequest, { max: 100_000 }) ?? 1_000,
    redrivePerSecond: check.positiveInt('admin.redrivePerSecond', o.redrivePerSecond, { max: 1_000_000 }) ?? 200,
    commandTimeoutMs: check.durationMs('admin.commandTimeoutMs', o.commandTimeoutMs, { min: 1 }) ?? 2_000,
  };
}
