/**
 * Tracing, the one mechanism every feature uses: spans and W3C trace context through `@opentelemetry/api`, an
 * optional peer dependency. The API is looked up on first use (an entry loaded alone does not load it); without it,
 * or while no tracer provider (an OpenTelemetry SDK) is registered, nothing is created: each call costs one check
 * and runs the feature's code as it is. Features call {@link traced}, {@link openSpan}, {@link recordSpan},
 * {@link tracePublish} and {@link traceProcess} with a line or two; the OpenTelemetry types stay in this file.
 */
import type * as otel from '@opentelemetry/api';

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
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const HEX32 = /^[0-9a-f]{32}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ZEROS = /^0+$/;

/** undefined: not looked up yet; null: not installed. */
let api: Api | null | undefined;
/** The provider a proxy answers with while no SDK is registered (the API's own no-op one). */
let noopProvider: unknown;
let lastProvider: unknown;
let lastTracer: otel.Tracer | undefined;
let suppressed = false;
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

function clean(attributes: TraceAttributes | undefined): otel.Attributes | undefined {
  if (!attributes) return undefined;
  const out: otel.Attributes = {};
  for (const key of Object.keys(attributes)) {
    const value = attributes[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
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

/** Runs `fn` in `span` (active), ending the span when `fn` returns, throws, or its promise settles. */
function runIn<T>(a: Api, span: otel.Span, ctx: otel.Context, fn: (span: TraceSpan) => T): T {
  let result: T;
  try {
    result = a.context.with(a.trace.setSpan(ctx, span), fn, undefined, span);
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
 * Runs `fn` inside a span named `name` (active within `fn`, so spans started there are its children) and ends it
 * when `fn` returns or its promise settles; an error sets the status to ERROR and is rethrown unchanged. With
 * tracing off, calls `fn(undefined)` and nothing else.
 */
export function traced<T>(name: string, start: SpanStart, fn: (span: TraceSpan | undefined) => T): T {
  const t = tracer();
  if (!t) return fn(undefined);
  const a = api as Api;
  const span = t.startSpan(name, { kind: KINDS[start.kind ?? 'internal'], attributes: clean(start.attributes) });
  return runIn(a, span, a.context.active(), fn);
}

/** Starts a span for work that ends in a callback; undefined (nothing started) with tracing off. */
export function openSpan(name: string, start: SpanStart): OpenSpan | undefined {
  const t = tracer();
  if (!t) return undefined;
  const a = api as Api;
  const parent = a.context.active();
  const span = t.startSpan(name, { kind: KINDS[start.kind ?? 'internal'], attributes: clean(start.attributes) });
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
  t.startSpan(name, {
    kind: KINDS[start.kind ?? 'internal'],
    attributes: clean(start.attributes),
    startTime: startMs,
  }).end();
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
  a.propagation.inject(ctx, headers);
  const sc = a.trace.getSpanContext(ctx);
  if (!headers[TRACEPARENT_HEADER] && sc && a.trace.isSpanContextValid(sc)) {
    // No W3C propagator registered: messages still carry W3C context.
    headers[TRACEPARENT_HEADER] = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
    const state = sc.traceState?.serialize();
    if (state) headers[TRACESTATE_HEADER] = state;
  }
  return headers;
}

/**
 * The trace context carried by a message's headers: W3C `traceparent` (+ `tracestate`) when valid, else the older
 * `traceId` header when it is a UUID or 32 hex digits (its trace is continued; the producer's span is unknown, a
 * placeholder span id stands for it), else undefined. Works without the API.
 */
export function traceContextOf(headers: Readonly<Record<string, string | undefined>>): MessageTraceContext | undefined {
  const parent = headers[TRACEPARENT_HEADER];
  if (typeof parent === 'string') {
    const m = TRACEPARENT.exec(parent.trim().toLowerCase());
    if (m && m[1] !== 'ff' && !(m[1] === '00' && m[5]) && !ZEROS.test(m[2]) && !ZEROS.test(m[3])) {
      const state = headers[TRACESTATE_HEADER];
      return {
        traceId: m[2],
        spanId: m[3],
        sampled: (parseInt(m[4], 16) & 1) === 1,
        ...(typeof state === 'string' && state ? { traceState: state } : {}),
        from: 'traceparent',
      };
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
  if (!traceparent) return undefined;
  const m = TRACEPARENT.exec(traceparent);
  return m && !ZEROS.test(m[2]) ? m[2] : undefined;
}

/** The remote context of a message: what the registered propagator reads, else {@link traceContextOf}. */
function remoteContext(a: Api, headers: Readonly<Record<string, string>>): otel.Context | undefined {
  const root = a.ROOT_CONTEXT;
  const extracted = a.propagation.extract(root, headers);
  if (a.trace.getSpanContext(extracted)) return extracted;
  const carried = traceContextOf(headers);
  if (!carried) return undefined;
  return a.trace.setSpanContext(root, {
    traceId: carried.traceId,
    spanId: carried.spanId,
    traceFlags: carried.sampled ? 1 : 0,
    isRemote: true,
    ...(carried.traceState ? { traceState: a.createTraceState(carried.traceState) } : {}),
  });
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

/**
 * Sends a message under a PRODUCER span `publish <destination>`: `send` gets a copy of `headers` that carries the
 * span's context (W3C `traceparent` / `tracestate`). With tracing off, `send(headers)` as given.
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
  const span = t.startSpan(`publish ${destination}`, {
    kind: KINDS.producer,
    attributes: clean(messagingAttributes('publish', destination, { 'nrk.messaging.kind': kind })),
  });
  const parent = a.context.active();
  const carried = { ...headers } as Record<string, string>;
  a.propagation.inject(a.trace.setSpan(parent, span), carried);
  if (!carried[TRACEPARENT_HEADER]) {
    const sc = span.spanContext();
    carried[TRACEPARENT_HEADER] = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
    const state = sc.traceState?.serialize();
    if (state) carried[TRACESTATE_HEADER] = state;
  }
  return runIn(a, span, parent, (s) => send(carried as H, s));
}

/**
 * Runs a message's handler under a CONSUMER span `process <destination>` that is a child of the producer's span
 * (read from the message's headers by {@link traceContextOf} or the registered propagator) and links to it, so the
 * handler's work joins the producer's trace, across processes. A message without trace context starts a new trace.
 * With tracing off, `handle()` (`attributes` is called only with tracing on).
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
  const remote = remoteContext(a, headers);
  const producer = remote && a.trace.getSpanContext(remote);
  const span = t.startSpan(
    `process ${destination}`,
    {
      kind: KINDS.consumer,
      attributes: clean(
        messagingAttributes('process', destination, {
          'messaging.message.conversation_id': headers.traceId || undefined,
          ...attributes(),
        }),
      ),
      ...(producer ? { links: [{ context: producer }] } : {}),
    },
    remote ?? a.ROOT_CONTEXT,
  );
  return runIn(a, span, remote ?? a.ROOT_CONTEXT, handle);
}
