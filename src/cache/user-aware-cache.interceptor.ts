import { Inject, Injectable, Optional, type ExecutionContext } from '@nestjs/common';
import { CacheInterceptor } from '@nestjs/cache-manager';
import { CACHE_MODULE_OPTIONS } from './cache.constants';
import type { ResolvedCacheOptions } from './cache.options';

interface HttpRequestLike {
  headers?: Record<string, string | string[] | undefined>;
}

interface HttpResponseLike {
  setHeader?(name: string, value: string): void;
}

/**
 * True when the request identifies a user: an Authorization header, or a cookie (any cookie, or one of
 * `cookieNames` when given).
 */
export function isPrivateRequest(req: HttpRequestLike, cookieNames?: readonly string[]): boolean {
  const headers = req.headers ?? {};
  if (headers.authorization) return true;
  const cookie = headers.cookie;
  if (!cookie) return false;
  const text = Array.isArray(cookie) ? cookie.join(';') : cookie;
  if (!cookieNames) return text.trim().length > 0;
  const names = text.split(';').map((part) => part.split('=')[0].trim());
  return names.some((n) => cookieNames.includes(n));
}

/**
 * @nestjs/cache-manager's CacheInterceptor that never serves one user's response to another: a request with
 * an Authorization header or a session cookie is NOT cached (neither read nor written) and is answered
 * `X-Cache: BYPASS`; anonymous GETs are cached by URL as usual (`@CacheKey` / `@CacheTTL` work).
 */
@Injectable()
export class UserAwareCacheInterceptor extends CacheInterceptor {
  @Optional()
  @Inject(CACHE_MODULE_OPTIONS)
  private readonly cacheOptions?: ResolvedCacheOptions;

  /** The cache key, or undefined (not cached) for a request that identifies a user. */
  protected override trackBy(context: ExecutionContext): ReturnType<CacheInterceptor['trackBy']> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<HttpRequestLike>();
      if (isPrivateRequest(req, this.cacheOptions?.privateCookieNames)) {
        context.switchToHttp().getResponse<HttpResponseLike>().setHeader?.('X-Cache', 'BYPASS');
        return undefined;
      }
    }
    return super.trackBy(context);
  }
}
