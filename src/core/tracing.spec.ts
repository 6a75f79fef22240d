import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createEnvelope } from '../messaging/message-envelope';
import {
  endingCallback,
  injectTraceContext,
  openSpan,
  recordSpan,
  setTracingApiLoader,
  suppressTracing,
  traceContextOf,
  traced,
  tracePublish,
  traceProcess,
  tracingEnabled,
} from './tracing';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('traceContextOf (W3C headers, the older traceId)', () => {
  it('reads traceparent and tracestate', () => {
    expect(traceContextOf({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'vendor=1', traceId: 'x' })).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      sampled: true,
      traceState: 'vendor=1',
      from: 'traceparent',
    });
    expect(traceContextOf({ traceparent: `00-${TRACE}-${SPAN}-00` })?.sampled).toBe(false);
    // A later version may add fields; version 00 may not.
    expect(traceContextOf({ traceparent: `01-${TRACE}-${SPAN}-01-extra` })?.traceId).toBe(TRACE);
  });

  it('refuses a malformed traceparent and falls back to traceId', () => {
    const uuid = '0af76519-16cd-43dd-8448-eb211c80319c';
    for (const bad of [
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${TRACE.slice(1)}-${SPAN}-01`,
      'garbage',
    ]) {
      expect(traceContextOf({ traceparent: bad })).toBeUndefined();
      expect(traceContextOf({ traceparent: bad, traceId: uuid })).toMatchObject({
        traceId: uuid.replace(/-/g, ''),
        from: 'traceId',
      });
    }
  });

  it('continues the older traceId when it is a UUID or 32 hex digits, with a stand-in parent', () => {
    expect(traceContextOf({ traceId: TRACE })).toEqual({
      traceId: TRACE,
      spanId: TRACE.slice(16),
      sampled: true,
      from: 'traceId',
    });
    expect(traceContextOf({ traceId: `${'1'.repeat(16)}${'0'.repeat(16)}` })?.spanId).toBe('1'.repeat(16));
    expect(traceContextOf({ traceId: 'req-42' })).toBeUndefined();
    expect(traceContextOf({ traceId: '0'.repeat(32) })).toBeUndefined();
    expect(traceContextOf({})).toBeUndefined();
    // Headers come from JSON: a value that is not a string is ignored, never thrown on.
    expect(traceContextOf({ traceId: 42, traceparent: {} } as unknown as Record<string, string>)).toBeUndefined();
  });

  it('gives an envelope without traceId the trace id of its traceparent', () => {
    expect(createEnvelope('t', 1, { traceparent: `00-${TRACE}-${SPAN}-01` }).headers.traceId).toBe(TRACE);
    const own = createEnvelope('t', 1);
    expect(own.headers.traceId).toBe(own.id);
    expect(createEnvelope('t', 1, { traceId: 'r1', traceparent: `00-${TRACE}-${SPAN}-01` }).headers.traceId).toBe('r1');
  });
});

/** The behaviour with tracing off: no span, the callers' own values passed through untouched. */
function expectNothingTraced(): void {
  expect(tracingEnabled()).toBe(false);
  const headers = { traceId: 't' };
  expect(tracePublish('orders', 'stream', headers, (h, span) => ({ h, span }))).toEqual({
    h: headers,
    span: undefined,
  });
  expect(tracePublish('orders', 'stream', headers, (h) => h)).toBe(headers);
  expect(traced('x', {}, (span) => span)).toBeUndefined();
  expect(
    traceProcess(
      'orders',
      { traceparent: `00-${TRACE}-${SPAN}-01` },
      () => ({}),
      () => 7,
    ),
  ).toBe(7);
  expect(openSpan('x', {})).toBeUndefined();
  const callback = () => undefined;
  expect(endingCallback(undefined, callback)).toBe(callback);
  expect(injectTraceContext({ a: 'b' })).toEqual({ a: 'b' });
  recordSpan('x', Date.now(), {});
}

describe('tracing without an SDK', () => {
  it('creates nothing when no tracer provider is registered', () => {
    expectNothingTraced();
  });

  it('creates nothing, and loads, when @opentelemetry/api is not installed', () => {
    setTracingApiLoader(() => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
    });
    try {
      expectNothingTraced();
    } finally {
      setTracingApiLoader();
    }
  });
});

describe('tracing with an SDK', () => {
  const exporter = new InMemorySpanExporter();
  const contextManager = new AsyncLocalStorageContextManager();

  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  });
  afterEach(() => {
    exporter.reset();
    propagation.disable();
  });
  afterAll(() => {
    trace.disable();
    context.disable();
    expectNothingTraced(); // unregistered: off again
  });

  it('is on, unless suppressed', () => {
    expect(tracingEnabled()).toBe(true);
    suppressTracing(true);
    try {
      expectNothingTraced();
    } finally {
      suppressTracing(false);
    }
  });

  it('a producer span writes W3C context into a copy of the headers; the consumer span is its child and links to it', async () => {
    const given = { traceId: 'request-1' };
    const sent = await tracePublish('orders', 'stream', given, async (headers) => headers);
    expect(given).toEqual({ traceId: 'request-1' }); // the caller's object is left alone
    const carried = traceContextOf(sent!)!;
    expect(carried.from).toBe('traceparent');

    const inner = traceProcess(
      'orders',
      sent!,
      () => ({ 'messaging.consumer.group.name': 'billing' }),
      () => traced('inner', {}, () => trace.getActiveSpan()?.spanContext()),
    );
    const [producer, innerSpan, consumer] = exporter.getFinishedSpans();
    expect(producer.name).toBe('publish orders');
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'redis',
      'messaging.operation': 'publish',
      'messaging.destination.name': 'orders',
      'nrk.messaging.kind': 'stream',
    });
    expect(producer.spanContext()).toMatchObject({ traceId: carried.traceId, spanId: carried.spanId });

    expect(consumer.name).toBe('process orders');
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.attributes).toMatchObject({
      'messaging.operation': 'process',
      'messaging.consumer.group.name': 'billing',
      'messaging.message.conversation_id': 'request-1',
    });
    expect(consumer.spanContext().traceId).toBe(carried.traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(carried.spanId);
    expect(consumer.links.map((l) => l.context.spanId)).toEqual([carried.spanId]);
    // Work inside the handler is a child of the consumer span.
    expect(innerSpan.parentSpanContext?.spanId).toBe(consumer.spanContext().spanId);
    expect(inner?.spanId).toBe(innerSpan.spanContext().spanId);
  });

  it('the registered propagator writes the headers when there is one (W3C here, with tracestate)', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const sent = await tracePublish('prices', 'pubsub', undefined, async (headers) => headers);
    expect(traceContextOf(sent!)?.from).toBe('traceparent');
    traceProcess(
      'prices',
      { ...sent!, tracestate: 'a=1' },
      () => ({}),
      () => undefined,
    );
    const consumer = exporter.getFinishedSpans()[1];
    expect(consumer.parentSpanContext?.traceState?.get('a')).toBe('1');
  });

  it('a message with only the older traceId header joins that trace', () => {
    const uuid = '0af76519-16cd-43dd-8448-eb211c80319c';
    traceProcess(
      'orders',
      { traceId: uuid },
      () => ({}),
      () => undefined,
    );
    traceProcess(
      'orders',
      { traceId: 'not-a-trace-id' },
      () => ({}),
      () => undefined,
    );
    const [joined, fresh] = exporter.getFinishedSpans();
    expect(joined.spanContext().traceId).toBe(uuid.replace(/-/g, ''));
    expect(joined.parentSpanContext?.isRemote).toBe(true);
    expect(fresh.parentSpanContext).toBeUndefined(); // a new trace
    expect(fresh.attributes['messaging.message.conversation_id']).toBe('not-a-trace-id');
  });

  it('spans end when the work settles, with an ERROR status on failure; callbacks and recorded spans too', async () => {
    await expect(
      traced('fails', { kind: 'client', attributes: { a: 1, b: undefined } }, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(() =>
      traced('throws', {}, () => {
        throw new Error('sync');
      }),
    ).toThrow('sync');
    const open = openSpan('callback', {});
    const done = jest.fn();
    endingCallback(open, done, (span, _err: unknown, value: number) => span.setAttribute('v', value))(null, 3);
    open?.end(); // a second end does nothing
    recordSpan('moved', Date.now() - 50, { attributes: { n: 2 } });
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['fails', 'throws', 'callback', 'moved']);
    expect(spans[0].status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(spans[0].kind).toBe(SpanKind.CLIENT);
    expect(spans[0].attributes).toEqual({ a: 1 });
    expect(spans[1].status.code).toBe(SpanStatusCode.ERROR);
    expect(spans[2].attributes).toEqual({ v: 3 });
    expect(done).toHaveBeenCalledWith(null, 3);
    expect(spans[3].attributes).toEqual({ n: 2 });
  });

  it('injectTraceContext writes the active span into headers', () => {
    const headers = traced('outer', {}, () => injectTraceContext({}));
    const outer = exporter.getFinishedSpans()[0];
    expect(traceContextOf(headers)).toMatchObject({
      traceId: outer.spanContext().traceId,
      spanId: outer.spanContext().spanId,
    });
    expect(injectTraceContext({})).toEqual({}); // outside any span
  });
});
