/**
 * The shared mechanisms every feature uses instead of its own copy: deadlines, the fail-open breaker, option
 * checks, Lua scripts, method-decorator discovery, metrics registration, per-tick command batching, rate decisions
 * and tracing.
 * See docs/architecture.md for the shape of a feature and a short example of each.
 */
export { sleep, withTimeout, settleWithin, type SleepOptions } from './deadline';
export { DeadlineSweeper, DeadlineTicket, SweptCommand, deadlines, type Expirable } from './deadline-sweeper';
export { batchWritesThisTick, batchWritesWhileBusy, type TickWriteSchedule } from './tick-writes';
export { OutageBreaker, type OutageBreakerOptions, type OutageLogger, type OutageStats } from './outage-breaker';
export { OptionChecker, check, type NumberBounds, type OptionErrorFactory } from './option-checker';
export { LuaScript, defineScript, type LuaArg, type LuaScriptDefinition } from './lua-script';
export {
  METHOD_DECORATOR_ORDER,
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from './method-decorators';
export { LibraryMethodExplorer } from './method-explorer';
export {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
  type MetricSample,
  type StatsCounterSpec,
} from './feature-metrics';
export { CommandBatcher } from './command-batcher';
export {
  RATE_DECISION_ALGORITHMS,
  RateDecider,
  rateBlockKey,
  rateStateKey,
  type DecisionReply,
  type RateDecisionAlgorithm,
  type RateDecisionParams,
} from './rate-decision';
export { DecisionRunner, type DecisionRunnerOptions } from './rate-decision.runner';
export { FIXED_WINDOW, FIXED_WINDOW_BLOCKING, GCRA, SLIDING_WINDOW, TOKEN_BUCKET } from './rate-decision.scripts';
export {
  MESSAGING_SYSTEM,
  TRACER_NAME,
  configureTracing,
  endingCallback,
  injectTraceContext,
  internalSpanWanted,
  messagingAttributes,
  openSpan,
  recordSpan,
  traceContextOf,
  traced,
  tracePublish,
  traceProcess,
  tracingEnabled,
  type MessageTraceContext,
  type OpenSpan,
  type SpanStart,
  type TraceAttributes,
  type TraceAttributeValue,
  type TraceSpan,
  type TraceSpanKind,
  type TracingOptions,
} from './tracing';
