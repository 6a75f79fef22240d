import {
  ForbiddenException,
  Inject,
  Injectable,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Request } from 'express';
import { isObservable, lastValueFrom } from 'rxjs';
import { ADMIN_RESOLVED_OPTIONS } from './admin.constants';
import type { ResolvedAdminOptions } from './admin.options';

/** Methods that only read. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The one guard of the page and its API: the application's guard (option `guard`) decides who gets in (its
 * 401 / 403 pass unchanged), then a change is refused with 403 when the module is `readOnly` or when a browser
 * says it comes from another site (`Sec-Fetch-Site`: a forged cross-site request). The application's
 * guard is taken from its providers when it is registered there (so it may inject the app's services), otherwise
 * created once by the module.
 */
@Injectable()
export class AdminAccessGuard implements CanActivate {
  private readonly logger = new Logger('Admin');
  private appGuard: Promise<CanActivate> | undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(ADMIN_RESOLVED_OPTIONS) private readonly options: ResolvedAdminOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.options.guard) {
      const guard = await this.resolveGuard();
      const verdict = guard.canActivate(context);
      const allowed = isObservable(verdict) ? await lastValueFrom(verdict) : await verdict;
      if (!allowed) throw new ForbiddenException('Not allowed on the operations page');
    }
    const req = context.switchToHttp().getRequest<Request>();
    if (READS.has(req.method)) return true;
    // A browser says where a request comes from; a change from another site (a forged form or fetch) is refused.
    const site = req.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') {
      this.logger.warn(`${this.options.who(req)} refused (${site} request): ${req.method} ${req.originalUrl}`);
      throw new ForbiddenException('Changes are accepted from the operations page itself only (same origin)');
    }
    if (this.options.readOnly) {
      this.logger.warn(`${this.options.who(req)} refused (read-only): ${req.method} ${req.originalUrl}`);
      throw new ForbiddenException('The operations page is read-only: changes are refused');
    }
    return true;
  }

  private resolveGuard(): Promise<CanActivate> {
    const type = this.options.guard!;
    this.appGuard ??= (async (): Promise<CanActivate> => {
      try {
        const found: CanActivate | undefined = this.moduleRef.get(type, { strict: false });
        if (found) return found;
      } catch {
        // not registered in the application: created below
      }
      return this.moduleRef.create(type);
    })();
    return this.appGuard;
  }
}
