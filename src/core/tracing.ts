/**
 * Tracing, the one mechanism every feature uses: spans and W3C trace context through `@opentelemetry/api`, an
 * optional peer dependency. The API is looked up on first use (an entry loaded alone does not load it); without it,
 * or while no tracer provider (an OpenTelemetry SDK) is registered, nothing is created: each call costs one check
 * and runs the feature's code as it is. Features call {@link traced}, {@link openSpan}, {@link recordSpan},
 * {@link tracePublish} and {@link traceProcess} with a line or two; the OpenTelemetry types stay in this file.
 *
 * A span the sampler does not record (`isRecording()` false: e.g. 10 % sampling, or a parent that is not sampled)
 * costs the SDK's `startSpan` and little more: it is ended at once (ending it later records nothing either), no
 * promise is wrapped to end it, per-message attributes are not built, and when its context says nothing the active
 * one does not (a child in the same trace with the same flags and trace state: what a parent-based sampler makes
 * under a parent it follows) no context is entered for it: the work runs in the caller's, whose spans and messages
 * carry the same decision. A span that records nothing at the root of a trace is still entered: the work under it
 * must carry its "not sampled".
 */
import type * as otel from '@opentelemetry/api';
import { check } from './option-checker';

type Api = typeof otel;

/** A span attribute value, as OpenTelemetry takes it. */
export type TraceAttributeValue = string | number | boolean | string[] | number[];

/** Span attributes; undefined values are left out. */
export type TraceAttributes = Record<string, TraceAttributeValue | undefined>;

/** What a feature may do with the span it runs in (an OpenTelemetry `Span` satisfies it). */
export interface TraceSpan {
  /** Sets one attribute (e.g. the outcome, known only at the end). */
  setAttribute(key: string, value: TraceAttributeValue): unknown;
}

/** The OpenTelemetry span kind, by name. */
export type TraceSpanKind = 'internal' | 'producer' | 'consumer' | 'client' | 'server';

/** How a span starts. */
export interface SpanStart {
  /** Default `internal`. */
  kind?: TraceSpanKind;
  /** Attributes known at the start. */
  attributes?: TraceAttributes;
}

/** A span started by {@link openSpan}, for work that ends in a callback rather than a promise. */
export interface OpenSpan extends TraceSpan {
  /** Runs `fn` with this span active: spans started inside are its children, messages sent carry its context. */
  run<T>(fn: () => T): T;
  /** Ends the span; with an error, its status is ERROR and the exception is recorded. Later calls do nothing. */
  end(error?: unknown): void;
}

/** Library-wide tracing settings, set by {@link configureTracing}. */
export interface TracingOptions {
  /**
   * `true` (default): the internal spans (`cache getOrSet`, `lock acquire`, `lock held`, `semaphore acquire`,
   * `session load`, `session save`) are made only inside an active span (an HTTP request's, a message's), like
   * `requireParentSpan` of the OpenTelemetry ioredis and redis instrumentations; `false`: also outside any span,
   * each call then being the root of a trace of its own. Message (`publish` / `process`) and transport (`send` /
   * `handle`) spans are made either way: a consumer's span is the root of its worker's trace.
   */
  requireParentSpan?: boolean;
}

/** The trace context a message's headers carry, as read by {@link traceContextOf}. */
export interface MessageTraceContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits: the producer's span. */
  spanId: string;
  /** Whether the producer sampled its trace. */
  sampled: boolean;
  /** The `tracestate` header, when present. */
  traceState?: string;
  /** `traceparent` (W3C), or `traceId` (the older header: a UUID or 32 hex digits, no producer span known). */
  from: 'traceparent' | 'traceId';
}

/** Instrumentation scope of every span of the library. */
export const TRACER_NAME = 'nest-redis-kit';

/** `messaging.system` of every messaging span (OpenTelemetry messaging semantic conventions). */
export const MESSAGING_SYSTEM = 'redis';

/** The W3C headers a message carries. */
export const TRACEPARENT_HEADER = 'traceparent';
/** Vendor trace state, W3C. */
export const TRACESTATE_HEADER = 'tracestate';

const KINDS: Record<TraceSpanKind, number> = { internal: 0, server: 1, client: 2, producer: 3, consumer: 4 };
const HEX32 = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZEROS = /^0+$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);
/** The headers of W3C trace context and baggage: what the library reads and writes itself, without a propagator. */
const W3C_FIELDS = new Set([TRACEPARENT_HEADER, TRACESTATE_HEADER, 'baggage']);
/** Destinations whose span names and attributes are kept (callers choose names: the maps must stay bounded). */
const MAX_CACHED_DESTINATIONS = 1_000;

/** undefined: not looked up yet; null: not installed. */
let api: Api | null | undefined;
/** The provider a proxy answers with while no SDK is registered (the API's own no-op one). */
let noopProvider: unknown;
let lastProvider: unknown;
let lastTracer: otel.Tracer | undefined;
let suppressed = false;
let requireParentSpan = true;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const requireApi = (): unknown => require('@opentelemetry/api');
let loader = requireApi;

function load(): Api | null {
  try {
    const loaded = loader() as Api;
    noopProvider = new loaded.ProxyTracerProvider().getDelegate();
    api = loaded;
  } catch {
    api = null;
  }
  return api;
}

function libraryVersion(): string | undefined {
  try {
    // src/core and dist/core both sit two folders below the package root.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('../../package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/**
 * The library's tracer when spans would be recorded: the API is installed and a real tracer provider is registered
 * (the global one is a proxy whose delegate is the API's no-op provider until an SDK registers). Two property reads
 * and a comparison when off; the tracer is cached per provider.
 */
function tracer(): otel.Tracer | undefined {
  const a = api === undefined ? load() : api;
  if (a === null || suppressed) return undefined;
  const global = a.trace.getTracerProvider() as otel.TracerProvider & { getDelegate?: () => otel.TracerProvider };
  const provider = typeof global.getDelegate === 'function' ? global.getDelegate() : global;
  if (provider === noopProvider) return undefined;
  if (provider !== lastProvider) {
    lastProvider = provider;
    lastTracer = provider.getTracer(TRACER_NAME, libraryVersion());
  }
  return lastTracer;
}

/** True when the library creates spans: `@opentelemetry/api` is installed and an SDK registered a tracer provider. */
export function tracingEnabled(): boolean {
  return tracer() !== undefined;
}

/**
 * Sets the library-wide tracing options (see {@link TracingOptions}); an option left out gets its default back.
 * Call it before the application starts (e.g. next to the SDK's start).
 */
export function configureTracing(options: TracingOptions = {}): void {
  check.object('tracing', options);
  requireParentSpan = check.boolean('tracing.requireParentSpan', options.requireParentSpan) ?? true;
}

/**
 * True when an internal span ({@link traced} / {@link openSpan} without a kind) would be made here: tracing is on
 * and, unless `requireParentSpan` is off, a span is active. Lets a caller skip the work of preparing one.
 */
export function internalSpanWanted(): boolean {
  const t = tracer();
  return (
    t !== undefined && (!requireParentSpan || (api as Api).trace.getSpan((api as Api).context.active()) !== undefined)
  );
}

/**
 * @internal Benches and tests: `true` turns the library's tracing off whatever is registered (the cost of one
 * check stays); `false` gives the normal behaviour back.
 */
export function suppressTracing(off: boolean): void {
  suppressed = off;
}

/**
 * @internal Tests: loads the API with `load` instead of `require` (e.g. one that throws: the API not installed);
 * without an argument, `require` again.
 */
export function setTracingApiLoader(load: () => unknown = requireApi): void {
  loader = load;
  api = undefined;
  lastProvider = undefined;
  lastTracer = undefined;
}

/** `attributes` without its undefined values (the same object when it has none: the SDK copies what it keeps). */
function clean(attributes: TraceAttributes | undefined): otel.Attributes | undefined {
  if (!attributes) return undefined;
  for (const key in attributes) {
    if (attributes[key] !== undefined) continue;
    const out: otel.Attributes = {};
    for (const k in attributes) {
      const value = attributes[k];
      if (value !== undefined) out[k] = value;
    }
    return out;
  }
  return attributes as otel.Attributes;
}

/** An internal span that `requireParentSpan` leaves out: no span is active in `parent`. */
function leftOut(a: Api, start: SpanStart, parent: otel.Context): boolean {
  return requireParentSpan && (start.kind === undefined || start.kind === 'internal') && !a.trace.getSpan(parent);
}

function spanOptions(start: SpanStart): otel.SpanOptions {
  return { kind: KINDS[start.kind ?? 'internal'], attributes: clean(start.attributes) };
}

function fail(a: Api, span: otel.Span, err: unknown): void {
  if (err instanceof Error) span.recordException(err);
  span.setStatus({ code: a.SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Runs `fn` in `ctx` (a context whose active span is `span`; undefined: in the caller's context), ending the span
 * when `fn` returns, throws, or its promise settles.
 */
function runIn<T>(a: Api, span: otel.Span, ctx: otel.Context | undefined, fn: (span: TraceSpan) => T): T {
  if (!span.isRecording()) {
    span.end();
    return ctx ? a.context.with(ctx, fn, undefined, span) : fn(span);
  }
  let result: T;
  try {
    result = ctx ? a.context.with(ctx, fn, undefined, span) : fn(span);
  } catch (err) {
    fail(a, span, err);
    span.end();
    throw err;
  }
  if (!isThenable(result)) {
    span.end();
    return result;
  }
  return (result instanceof Promise ? result : Promise.resolve(result)).then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      fail(a, span, err);
      span.end();
      throw err;
    },
  ) as T;
}

/**
 * True when `span` records nothing and its context tells nothing that `parent`'s does not: the same trace, flags and
 * trace state (a parent-based sampler's child of a span it follows). Work under such a span can run in `parent`:
 * its spans get the same sampling decision, its messages the same `traceparent` flags.
 */
function transparent(a: Api, span: otel.Span, parent: otel.Context): boolean {
  if (span.isRecording()) return false;
  const sc = span.spanContext();
  const up = a.trace.getSpanContext(parent);
  return (
    up !== undefined && up.traceId === sc.traceId && up.traceFlags === sc.traceFlags && up.traceState === sc.traceState
  );
}

/**
 * Runs `fn` inside a span named `name` (active within `fn`, so spans started there are its children) and ends it
 * when `fn` returns or its promise settles; an error sets the status to ERROR and is rethrown unchanged. With
 * tracing off, calls `fn(undefined)` and nothing else; likewise, after the sampler's decision, for a span that records
 * nothing under a parent whose decision it shares (see the top of this file).
 */
export function traced<T>(name: string, start: SpanStart, fn: (span: TraceSpan | undefined) => T): T {
  const t = tracer();
  if (!t) return fn(undefined);
  const a = api as Api;
  const parent = a.context.active();
  if (leftOut(a, start, parent)) return fn(undefined);
  const span = t.startSpan(name, spanOptions(start), parent);
  if (transparent(a, span, parent)) {
    span.end();
    return fn(undefined);
  }
  return runIn(a, span, a.trace.setSpan(parent, span), fn);
}

/**
 * Starts a span for work that ends in a callback; undefined (nothing to end or enter) with tracing off, for an
 * internal span outside any span while `requireParentSpan` is on, or when the span records nothing and its context
 * is the caller's in all that matters (see the top of this file: the work runs in the caller's context).
 */
export function openSpan(name: string, start: SpanStart): OpenSpan | undefined {
  const t = tracer();
  if (!t) return undefined;
  const a = api as Api;
  const parent = a.context.active();
  if (leftOut(a, start, parent)) return undefined;
  const span = t.startSpan(name, spanOptions(start), parent);
  if (transparent(a, span, parent)) {
    span.end();
    return undefined;
  }
  let ended = false;
  return {
    setAttribute: (key, value) => span.setAttribute(key, value),
    run: (fn) => a.context.with(a.trace.setSpan(parent, span), fn),
    end: (error?: unknown) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) fail(a, span, error);
      span.end();
    },
  };
}

/**
 * A node-style callback (`(err, ...result)`) that first ends `span` (ERROR when `err` is set), after `onEnd` has
 * noted what the result says; without a span, `callback` itself.
 */
export function endingCallback<A extends unknown[]>(
  span: OpenSpan | undefined,
  callback: (...args: A) => void,
  onEnd?: (span: TraceSpan, ...args: A) => void,
): (...args: A) => void {
  if (!span) return callback;
  return (...args: A) => {
    onEnd?.(span, ...args);
    const err = args[0];
    span.end(err === null || err === undefined ? undefined : err);
    callback(...args);
  };
}

/** Records a span for work already done (from `startMs`, epoch ms, to now), e.g. a background move that did something. */
export function recordSpan(name: string, startMs: number, start: SpanStart): void {
  const t = tracer();
  if (!t) return;
  t.startSpan(name, { ...spanOptions(start), startTime: startMs }).end();
}

/**
 * Whether the registered propagator must read or write `headers` itself: it handles a header other than W3C trace
 * context and baggage (B3, Jaeger...), or W3C baggage is to be carried (`baggage` set: in `ctx` when writing, in the
 * headers when reading). Otherwise the library writes and reads `traceparent` / `tracestate` itself, which is what
 * the W3C propagator would do, without its generic getters and setters.
 */
function propagatorNeeded(a: Api, ctx: otel.Context | undefined, headers: Readonly<Record<string, unknown>>): boolean {
  const fields = a.propagation.fields();
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i];
    if (!W3C_FIELDS.has(field)) return true;
    if (field === 'baggage' && (ctx ? a.propagation.getBaggage(ctx) !== undefined : headers.baggage !== undefined))
      return true;
  }
  return false;
}

/** Writes `sc` as W3C `traceparent` (and `tracestate` when set) into `headers`. */
function writeTraceparent(sc: otel.SpanContext, headers: Record<string, string>): void {
  headers[TRACEPARENT_HEADER] = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
  const state = sc.traceState?.serialize();
  if (state) headers[TRACESTATE_HEADER] = state;
}

/**
 * Writes span `sc` into `headers`: through the propagator when needed (the context it gets is `ctx` with `span` set
 * in it, or `ctx` itself when `span` is not given), else as W3C.
 */
function writeContext(
  a: Api,
  ctx: otel.Context,
  sc: otel.SpanContext,
  headers: Record<string, string>,
  span?: otel.Span,
): void {
  if (propagatorNeeded(a, ctx, headers)) a.propagation.inject(span ? a.trace.setSpan(ctx, span) : ctx, headers);
  // No W3C propagator registered (or it wrote nothing): messages still carry W3C context.
  if (!headers[TRACEPARENT_HEADER] && a.trace.isSpanContextValid(sc)) writeTraceparent(sc, headers);
}

/**
 * Writes the active trace context into `headers` as W3C `traceparent` / `tracestate` (and whatever else the
 * registered propagator writes, e.g. `baggage`); returns `headers`. Nothing is written with tracing off or outside
 * any span.
 */
export function injectTraceContext(headers: Record<string, string>): Record<string, string> {
  if (!tracer()) return headers;
  const a = api as Api;
  const ctx = a.context.active();
  const sc = a.trace.getSpanContext(ctx);
  if (sc) writeContext(a, ctx, sc, headers);
  else if (propagatorNeeded(a, ctx, headers)) a.propagation.inject(ctx, headers);
  return headers;
}

const DASH = 0x2d;
/** 1 at the char codes of the lowercase hex digits. */
const HEX_DIGIT = new Uint8Array(128);
for (const c of '0123456789abcdef') HEX_DIGIT[c.charCodeAt(0)] = 1;

/** The "sampled" bit of the flags, from their last hex digit (its char code). */
function sampledFlag(lastDigit: number): boolean {
  return ((lastDigit <= 0x39 ? lastDigit - 0x30 : lastDigit - 0x57) & 1) === 1;
}

/**
 * True when `value` has the form of a W3C `traceparent` (lowercase hex): version, trace id, parent span id and flags,
 * then the end or (later versions) `-` and more. Read with a table of hex digits: about half the cost of the
 * equivalent regular expression, once per message on each side.
 */
function isTraceparent(value: string): boolean {
  const length = value.length;
  if (length < 55 || (length > 55 && value.charCodeAt(55) !== DASH)) return false;
  if (value.charCodeAt(2) !== DASH || value.charCodeAt(35) !== DASH || value.charCodeAt(52) !== DASH) return false;
  for (let i = 0; i < 55; i++) {
    if (i === 2 || i === 35 || i === 52) continue;
    const c = value.charCodeAt(i);
    if (c > 127 || HEX_DIGIT[c] === 0) return false;
  }
  return true;
}

/**
 * The trace context carried by a message's headers: W3C `traceparent` (+ `tracestate`) when valid, else the older
 * `traceId` header when it is a UUID or 32 hex digits (its trace is continued; the producer's span is unknown, a
 * placeholder span id stands for it), else undefined. Works without the API.
 */
export function traceContextOf(headers: Readonly<Record<string, string | undefined>>): MessageTraceContext | undefined {
  const parent = headers[TRACEPARENT_HEADER];
  if (typeof parent === 'string') {
    // What producers write is already trimmed lowercase: the copies are made only when needed.
    const canonical = isTraceparent(parent);
    const value = canonical ? parent : parent.trim().toLowerCase();
    if (canonical || isTraceparent(value)) {
      const version = value.slice(0, 2);
      const traceId = value.slice(3, 35);
      const spanId = value.slice(36, 52);
      // Version ff is invalid; version 00 has exactly four fields.
      if (version !== 'ff' && !(version === '00' && value.length > 55)) {
        if (traceId !== ZERO_TRACE_ID && spanId !== ZERO_SPAN_ID) {
          const carried: MessageTraceContext = {
            traceId,
            spanId,
            sampled: sampledFlag(value.charCodeAt(54)),
            from: 'traceparent',
          };
          const state = headers[TRACESTATE_HEADER];
          if (typeof state === 'string' && state) carried.traceState = state;
          return carried;
        }
      }
    }
  }
  const old = typeof headers.traceId === 'string' ? headers.traceId.toLowerCase() : undefined;
  if (old && (HEX32.test(old) || UUID.test(old))) {
    const traceId = old.replace(/-/g, '');
    if (ZEROS.test(traceId)) return undefined;
    // A stand-in parent: the trace id's last 16 digits (never all zeros: one digit of the id is non-zero).
    const tail = traceId.slice(16);
    return { traceId, spanId: ZEROS.test(tail) ? traceId.slice(0, 16) : tail, sampled: true, from: 'traceId' };
  }
  return undefined;
}

/** The trace id of a `traceparent` header value, or undefined when it is not one. */
export function traceIdOfTraceparent(traceparent: string | undefined): string | undefined {
  if (!traceparent || !isTraceparent(traceparent)) return undefined;
  const traceId = traceparent.slice(3, 35);
  return traceId === ZERO_TRACE_ID ? undefined : traceId;
}

/** The remote context of a message and the producer's span in it: what the propagator reads, else our own read. */
function remoteContext(
  a: Api,
  headers: Readonly<Record<string, string>>,
): { ctx: otel.Context; producer: otel.SpanContext } | undefined {
  const root = a.ROOT_CONTEXT;
  if (propagatorNeeded(a, undefined, headers)) {
    const extracted = a.propagation.extract(root, headers);
    const producer = a.trace.getSpanContext(extracted);
    if (producer) return { ctx: extracted, producer };
  }
  const carried = traceContextOf(headers);
  if (!carried) return undefined;
  const producer: otel.SpanContext = {
    traceId: carried.traceId,
    spanId: carried.spanId,
    traceFlags: carried.sampled ? 1 : 0,
    isRemote: true,
  };
  if (carried.traceState) producer.traceState = a.createTraceState(carried.traceState);
  return { ctx: a.trace.setSpanContext(root, producer), producer };
}

/** Attributes of a messaging span (OpenTelemetry messaging semantic conventions; `nrk.*` are the library's). */
export function messagingAttributes(
  operation: 'publish' | 'process',
  destination: string,
  extra?: TraceAttributes,
): TraceAttributes {
  return {
    'messaging.system': MESSAGING_SYSTEM,
    'messaging.operation': operation,
    'messaging.operation.type': operation === 'publish' ? 'send' : 'process',
    'messaging.destination.name': destination,
    ...extra,
  };
}

/** What the spans of one destination share: their name and attributes, made once. */
interface DestinationSpan {
  name: string;
  options: otel.SpanOptions;
}

const publishSpans = { stream: new Map<string, DestinationSpan>(), pubsub: new Map<string, DestinationSpan>() };
const processSpans = new Map<string, DestinationSpan>();

/** The entry of `destination` in `cache`, made by `make` the first time (the cache is emptied when full). */
function destinationSpan(
  cache: Map<string, DestinationSpan>,
  destination: string,
  make: () => DestinationSpan,
): DestinationSpan {
  let entry = cache.get(destination);
  if (!entry) {
    if (cache.size >= MAX_CACHED_DESTINATIONS) cache.clear();
    entry = make();
    cache.set(destination, entry);
  }
  return entry;
}

/**
 * Sends a message under a PRODUCER span `publish <destination>`: `send` gets a copy of `headers` that carries the
 * span's context (W3C `traceparent` / `tracestate`); the span ends when `send` settles. `send` runs in the caller's
 * context, not the span's: it only writes the message (the library batches the writes of many messages, so a Redis
 * command there belongs to no single message), and entering a context costs microseconds per message. With
 * tracing off, `send(headers)` as given; when the span records nothing, `send` gets the headers (the message still
 * carries the decision, W3C flags "not sampled") but no span, and nothing waits for `send` to settle.
 * @param kind `stream` or `pubsub` (attribute `nrk.messaging.kind`)
 */
export function tracePublish<H extends Record<string, string | undefined>, T>(
  destination: string,
  kind: 'stream' | 'pubsub',
  headers: H | undefined,
  send: (headers: H | undefined, span: TraceSpan | undefined) => T,
): T {
  const t = tracer();
  if (!t) return send(headers, undefined);
  const a = api as Api;
  const { name, options } = destinationSpan(publishSpans[kind], destination, () => ({
    name: `publish ${destination}`,
    options: {
      kind: KINDS.producer,
      attributes: clean(messagingAttributes('publish', destination, { 'nrk.messaging.kind': kind })),
    },
  }));
  const parent = a.context.active();
  const span = t.startSpan(name, options, parent);
  const carried = { ...headers } as Record<string, string>;
  writeContext(a, parent, span.spanContext(), carried, span);
  if (!span.isRecording()) {
    span.end();
    return send(carried as H, undefined);
  }
  return runIn(a, span, undefined, (s) => send(carried as H, s));
}

/**
 * Runs a message's handler under a CONSUMER span `process <destination>` that is a child of the producer's span
 * (read from the message's headers by {@link traceContextOf} or the registered propagator) and links to it, so the
 * handler's work joins the producer's trace, across processes. A message without trace context starts a new trace.
 * The sampler sees the destination's attributes (system, operation, destination name); the message's own
 * (`attributes()`, the conversation id) are set only on a span that records. With tracing off, `handle()`.
 */
export function traceProcess<T>(
  destination: string,
  headers: Readonly<Record<string, string>>,
  attributes: () => TraceAttributes,
  handle: () => T,
): T {
  const t = tracer();
  if (!t) return handle();
  const a = api as Api;
  const { name, options } = destinationSpan(processSpans, destination, () => ({
    name: `process ${destination}`,
    options: { kind: KINDS.consumer, attributes: clean(messagingAttributes('process', destination)) },
  }));
  const remote = remoteContext(a, headers);
  const parent = remote ? remote.ctx : a.ROOT_CONTEXT;
  const span = t.startSpan(
    name,
    remote ? { kind: KINDS.consumer, attributes: options.attributes, links: [{ context: remote.producer }] } : options,
    parent,
  );
  if (!span.isRecording()) {
    span.end();
    // The producer's context, when it carries the same decision, else the span's (a trace that starts here).
    return a.context.with(transparent(a, span, parent) ? parent : a.trace.setSpan(parent, span), handle);
  }
  if (headers.traceId) span.setAttribute('messaging.message.conversation_id', headers.traceId);
  const extra = attributes();
  for (const key in extra) {
    const value = extra[key];
    if (value !== undefined) span.setAttribute(key, value);
  }
  return runIn(a, span, a.trace.setSpan(parent, span), handle);
}
