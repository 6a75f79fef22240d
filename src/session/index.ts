export { SessionModule } from './session.module';
export { SessionAuthService, type SessionStats, type ListedSession } from './session-auth.service';
export { RedisSessionStore, type RedisSessionStoreOptions, type SessionStoreStats } from './redis-session.store';
export {
  SessionIndex,
  type SessionMetadata,
  type UserSessionEntry,
  type SessionLimit,
  type SessionAdmission,
} from './session.index';
export { LoginThrottle, type LoginThrottleOptions, type LoginThrottleStats } from './login.throttle';
export { SessionUserLookup } from './session-user.lookup';
export { SessionAuthGuard } from './session-auth.guard';
export { LocalLoginGuard } from './local-login.guard';
export { LoginBodyValidator, type LoginCredentials } from './login-body.validator';
export { toSessionHttpError } from './session-http.errors';
export { CurrentUser } from './current-user.decorator';
export {
  INVALID_CREDENTIALS_MESSAGE,
  InvalidCredentialsError,
  InvalidLoginBodyError,
  LoginThrottledError,
  SessionLimitError,
} from './session.errors';
export {
  SESSION_MODULE_OPTIONS,
  SESSION_RESOLVED_OPTIONS,
  SESSION_STORE,
  LOCAL_STRATEGY_NAME,
} from './session.constants';
export {
  resolveSessionOptions,
  type SessionModuleOptions,
  type SessionModuleExtras,
  type ResolvedSessionOptions,
  type SessionLimitPolicy,
  type SessionRoute,
} from './session.options';
export type { SESSION_OPTIONS_TYPE, SESSION_ASYNC_OPTIONS_TYPE } from './session.module-definition';
