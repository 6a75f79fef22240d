import {
  ROOT_CONTEXT,
  TraceFlags,
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createEnvelope } from '../messaging/message-envelope';
import {
  configureTracing,
  endingCallback,
  injectTraceContext,
  internalSpanWanted,
  openSpan,
  recordSpan,
  setTracingApiLoader,
  suppressTracing,
  traceContextOf,
  traced,
  tracePublish,
  traceProcess,
  tracingEnabled,
  type TracingOptions,
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
    // Producers should write lowercase without spaces; other writers are read too.
    expect(traceContextOf({ traceparent: ` 00-${TRACE.toUpperCase()}-${SPAN}-01 ` })?.traceId).toBe(TRACE);
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
      `00-${TRACE}-${SPAN}-0g`,
      `00-${TRACE}_${SPAN}-01`,
      `01-${TRACE}-${SPAN}-01x`,
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
    // Most tests start internal spans outside any span; the default (parent required) has its own test below.
    configureTracing({ requireParentSpan: false });
  });
  afterEach(() => {
    exporter.reset();
    propagation.disable();
  });
  afterAll(() => {
    configureTracing();
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
    // The write runs in the caller's context (here none), not the producer span's.
    const sent = await tracePublish('orders', 'stream', given, async (headers) => {
      expect(trace.getActiveSpan()).toBeUndefined();
      return headers;
    });
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

  it('with the W3C propagator registered, messages carry W3C headers (with tracestate)', async () => {
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

  it('by default, internal spans are made only inside an active span; message and transport spans always', async () => {
    configureTracing();
    try {
      expect(internalSpanWanted()).toBe(false);
      expect(traced('cache getOrSet', {}, (span) => span)).toBeUndefined();
      expect(openSpan('session load', {})).toBeUndefined();
      await tracePublish('orders', 'stream', undefined, async (headers) => headers);
      const request = openSpan('GET /orders', { kind: 'server' })!;
      const inner = request.run(() => {
        expect(internalSpanWanted()).toBe(true);
        openSpan('session load', {})!.end();
        return traced('cache getOrSet', {}, () => trace.getActiveSpan()?.spanContext());
      });
      request.end();
      const spans = exporter.getFinishedSpans();
      expect(spans.map((s) => s.name)).toEqual(['publish orders', 'session load', 'cache getOrSet', 'GET /orders']);
      expect(spans[0].parentSpanContext).toBeUndefined(); // a producer span is made without a parent too
      const root = spans[3].spanContext().spanId;
      expect(spans[1].parentSpanContext?.spanId).toBe(root);
      expect(spans[2].parentSpanContext?.spanId).toBe(root);
      expect(inner?.spanId).toBe(spans[2].spanContext().spanId);
    } finally {
      configureTracing({ requireParentSpan: false });
    }
  });

  it("under a parent that is not sampled: nothing recorded, the work in the caller's context, messages carry the decision", async () => {
    const parent = trace.setSpan(
      ROOT_CONTEXT,
      trace.wrapSpanContext({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.NONE, isRemote: true }),
    );
    await context.with(parent, async () => {
      expect(traced('x', {}, (span) => span)).toBeUndefined();
      expect(openSpan('x', {})).toBeUndefined();
      // The active span inside is the parent itself: same trace, same "not sampled".
      expect(await traced('x', {}, async () => trace.getActiveSpan()?.spanContext().spanId)).toBe(SPAN);
      const sent = await tracePublish('orders', 'stream', { traceId: 'r' }, async (headers, span) => {
        expect(span).toBeUndefined();
        return headers;
      });
      expect(traceContextOf(sent!)).toMatchObject({ traceId: TRACE, sampled: false });
      const attributes = jest.fn(() => ({}));
      const inner = traceProcess('orders', sent!, attributes, () => trace.getActiveSpan()?.spanContext());
      expect(attributes).not.toHaveBeenCalled();
      expect(inner).toMatchObject({ traceId: TRACE, traceFlags: TraceFlags.NONE });
      expect(injectTraceContext({})).toEqual({ traceparent: `00-${TRACE}-${SPAN}-00` });
    });
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it("a trace that starts not sampled: the work runs in the new span's context, which messages carry", async () => {
    trace.disable();
    const sampler = new ParentBasedSampler({ root: new AlwaysOffSampler() });
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    try {
      const traceId = traced('root', {}, () => trace.getActiveSpan()?.spanContext().traceId);
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const root = openSpan('root', {})!;
      expect(root.run(() => injectTraceContext({})).traceparent).toMatch(/-00$/);
      root.end();
      const sent = (await tracePublish('orders', 'stream', {}, async (headers) => headers)) as Record<string, string>;
      const carried = traceContextOf(sent)!;
      expect(carried.sampled).toBe(false);
      // A message without context starts a trace, not sampled here; one with context follows the producer's.
      const inner = traceProcess(
        'orders',
        {},
        () => ({}),
        () => trace.getActiveSpan()?.spanContext(),
      );
      expect(inner?.traceFlags).toBe(TraceFlags.NONE);
      expect(
        traceProcess(
          'orders',
          sent,
          () => ({}),
          () => trace.getActiveSpan()?.spanContext().traceId,
        ),
      ).toBe(carried.traceId);
      expect(exporter.getFinishedSpans()).toEqual([]);
    } finally {
      trace.disable();
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    }
  });

  it('configureTracing checks its options', () => {
    expect(() => configureTracing({ requireParentSpan: 'yes' as unknown as boolean })).toThrow(
      /tracing\.requireParentSpan/,
    );
    expect(() => configureTracing(null as unknown as TracingOptions)).toThrow(/tracing/);
    configureTracing({ requireParentSpan: false });
  });

  it('a propagator with headers of its own writes and reads them; W3C baggage travels when set', async () => {
    const custom = {
      inject: (ctx: Context, carrier: Record<string, string>) => {
        carrier['x-trace'] = trace.getSpanContext(ctx)!.traceId;
      },
      extract: (ctx: Context, carrier: Record<string, string>) =>
        carrier['x-trace']
          ? trace.setSpanContext(ctx, { traceId: carrier['x-trace'], spanId: SPAN, traceFlags: 1, isRemote: true })
          : ctx,
      fields: () => ['x-trace'],
    };
    propagation.setGlobalPropagator(custom);
    const sent = (await tracePublish('orders', 'stream', undefined, async (headers) => headers))!;
    const producer = exporter.getFinishedSpans()[0];
    expect(sent['x-trace']).toBe(producer.spanContext().traceId);
    expect(traceContextOf(sent)?.spanId).toBe(producer.spanContext().spanId); // W3C written too
    traceProcess(
      'orders',
      { 'x-trace': TRACE },
      () => ({}),
      () => undefined,
    );
    expect(exporter.getFinishedSpans()[1].parentSpanContext).toMatchObject({ traceId: TRACE, spanId: SPAN });
    propagation.disable();

    exporter.reset();
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
    const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ tenant: { value: 'a' } }));
    const carried = (await context.with(withBaggage, () =>
      tracePublish<Record<string, string>, Promise<Record<string, string> | undefined>>(
        'orders',
        'stream',
        undefined,
        async (headers) => headers,
      ),
    ))!;
    expect(carried.baggage).toBe('tenant=a');
    expect(traceContextOf(carried)?.spanId).toBe(exporter.getFinishedSpans()[0].spanContext().spanId);
    const tenant = traceProcess(
      'orders',
      carried,
      () => ({}),
      () => propagation.getActiveBaggage()?.getEntry('tenant')?.value,
    );
    expect(tenant).toBe('a');
    expect(exporter.getFinishedSpans()[1].parentSpanContext?.spanId).toBe(
      exporter.getFinishedSpans()[0].spanContext().spanId,
    );
  });
});
