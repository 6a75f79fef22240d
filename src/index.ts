/**
 * nest-redis-kit: the library's public API. Everything another Nest project imports comes from here.
 */
export * from './redis';
// Bounded waiting (one pause, one timeout around a promise), as the library's features use it.
export { sleep, withTimeout, settleWithin, type SleepOptions } from './core/deadline';
// OpenTelemetry trace context of messages (optional peer @opentelemetry/api; nothing happens without an SDK).
export {
  configureTracing,
  injectTraceContext,
  traceContextOf,
  tracingEnabled,
  type MessageTraceContext,
  type TracingOptions,
} from './core/tracing';
export * from './metrics';
export * from './lock';
export * from './messaging';
export * from './transport';
export * from './cache';
export * from './session';
export * from './throttler';
export * from './schedule';
export * from './ratelimit';
export * from './admin';
