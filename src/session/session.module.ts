import { Module, type MiddlewareConsumer, type NestModule, type Provider } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { LocalLoginGuard } from './local-login.guard';
import { LoginBodyValidator } from './login-body.validator';
import { LoginThrottle } from './login.throttle';
import { RedisSessionStore } from './redis-session.store';
import { SESSION_MODULE_OPTIONS, SESSION_RESOLVED_OPTIONS, SESSION_STORE } from './session.constants';
import { SessionIndex } from './session.index';
import { SessionMetrics } from './session.metrics';
import { SessionConfigurableModule } from './session.module-definition';
import { resolveSessionOptions, type ResolvedSessionOptions, type SessionModuleOptions } from './session.options';
import { SessionAuthGuard } from './session-auth.guard';
import { SessionAuthService } from './session-auth.service';

const providers: Provider[] = [
  {
    provide: SESSION_RESOLVED_OPTIONS,
    inject: [SESSION_MODULE_OPTIONS],
    useFactory: (options: SessionModuleOptions) => resolveSessionOptions(options),
  },
  {
    provide: SessionIndex,
    inject: [SESSION_RESOLVED_OPTIONS, RedisService],
    useFactory: (o: ResolvedSessionOptions, redis: RedisService) =>
      new SessionIndex(redis.getClient(o.clientName), redis.prefixFor('sess')),
  },
  {
    provide: LoginThrottle,
    inject: [SESSION_RESOLVED_OPTIONS, RedisService],
    useFactory: (o: ResolvedSessionOptions, redis: RedisService) =>
      new LoginThrottle(
        () => redis.getClient(o.clientName),
        redis.prefixFor('sess'),
        o.loginMaxAttempts,
        o.loginWindowMs,
        {
          failOpen: o.loginFailOpen,
          timeoutMs: o.loginTimeoutMs,
        },
      ),
  },
  {
    provide: SESSION_STORE,
    inject: [SESSION_RESOLVED_OPTIONS, RedisService, SessionIndex],
    useFactory: (o: ResolvedSessionOptions, redis: RedisService, index: SessionIndex) =>
      new RedisSessionStore({
        client: redis.getClient(o.clientName),
        prefix: redis.prefixFor('sess'),
        defaultTtlMs: o.ttlMs,
        rolling: o.rolling,
        index,
        absoluteTimeoutMs: o.absoluteTimeoutMs,
      }),
  },
  SessionAuthService,
  SessionAuthGuard,
  LoginBodyValidator,
  LocalLoginGuard,
  SessionMetrics,
];

/**
 * Redis-backed sessions and login: express-session with {@link RedisSessionStore} on the shared client, passport
 * (local strategy + session) with the application's {@link SessionUserLookup}, login throttling, and a per-user
 * index of sessions that can be listed and revoked, an optional per-user session limit and absolute lifetime. Applies
 * its middleware to the routes of its `forRoutes` option (every route by default) but those of `exclude`. Its guards
 * are its HTTP edge: they answer the library's errors with 400 / 401 / 409 / 429 / 503 under any exception filter.
 */
@Module({
  providers,
  exports: [
    SESSION_RESOLVED_OPTIONS,
    SESSION_STORE,
    SessionIndex,
    SessionAuthService,
    SessionAuthGuard,
    LoginBodyValidator,
    LocalLoginGuard,
  ],
})
export class SessionModule extends SessionConfigurableModule implements NestModule {
  constructor(private readonly auth: SessionAuthService) {
    super();
  }

  /**
   * Applies express-session, passport.initialize() and passport.session() to the `forRoutes` routes (default: every
   * route, Express 5 path syntax) except the `exclude` ones, which then never read the session store.
   */
  configure(consumer: MiddlewareConsumer): void {
    const { forRoutes, exclude } = this.auth.options;
    const applied = consumer.apply(...this.auth.middleware);
    (exclude.length > 0 ? applied.exclude(...exclude) : applied).forRoutes(...forRoutes);
  }
}
