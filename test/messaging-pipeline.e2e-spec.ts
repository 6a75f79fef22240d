import {
  Catch,
  Controller,
  Inject,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { catchError, of, tap, type Observable } from 'rxjs';
import {
  EventBus,
  MESSAGE_CONTEXT_TYPE,
  MessageCtx,
  MessagePayload,
  MessagingModule,
  MessagingStats,
  OnMessage,
  StreamConsumer,
  StreamProducer,
  messageContextOf,
  type MessageContext,
  type MessageEnvelope,
  type StreamMessage,
  type StreamMessageContext,
} from '../src/messaging';
import { RedisConfigError, RedisModule } from '../src/redis';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { OrderDto, Recorder, createMessagingApp, eventually } from './messaging/messaging-test.helpers';

/** Lets a message through only when its `tenant` header is `acme`. */
@Injectable()
class TenantGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return messageContextOf(context)?.headers.tenant === 'acme';
  }
}

/** Global: records, for every message, what the pipeline showed it and how the handler ended. */
@Injectable()
class ObserveInterceptor implements NestInterceptor {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx = messageContextOf(context);
    const seen = { type: context.getType<string>(), handler: context.getHandler().name, id: ctx?.messageId };
    return next.handle().pipe(
      tap({
        next: () => this.rec.push({ observed: 'ok', ...seen }),
        error: (err: Error) => this.rec.push({ observed: 'error', error: err.message, ...seen }),
      }),
    );
  }
}

/** Turns a handler error into a settled message: the interceptor maps the failure to a value. */
@Injectable()
class RecoverInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(catchError(() => of('recovered')));
  }
}

class FlakyError extends Error {}
class SettleError extends Error {}

/** Sees handler errors with their message context; settles a SettleError (returns a value), leaves others. */
@Catch(FlakyError, SettleError)
class RecordingFilter implements ExceptionFilter {
  static readonly seen: unknown[] = [];

  catch(err: Error, host: ArgumentsHost): string | undefined {
    const ctx = messageContextOf(host);
    RecordingFilter.seen.push({ error: err.message, type: host.getType(), attempt: ctx?.attempt });
    return err instanceof SettleError ? 'settled by the filter' : undefined;
  }
}

@Injectable()
class PubSubHandlers {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @OnMessage('pipe.order')
  order(@MessagePayload() order: OrderDto, @MessageCtx() ctx: MessageContext): void {
    this.rec.push({ h: 'order', isDto: order instanceof OrderDto, order, ctx });
  }

  @OnMessage('pipe.order')
  sku(@MessagePayload('sku') sku: string): void {
    this.rec.push({ h: 'sku', sku });
  }

  @OnMessage('pipe.legacy')
  legacy(payload: unknown, envelope: MessageEnvelope): void {
    this.rec.push({ h: 'legacy', payload, envelope });
  }

  @UseGuards(TenantGuard)
  @OnMessage('pipe.guarded')
  guarded(@MessagePayload() payload: unknown): void {
    this.rec.push({ h: 'guarded', payload });
  }
}

@Injectable()
class StreamHandlers {
  private flaky = 0;

  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @StreamConsumer({ stream: 'pipe-orders', group: 'g', blockMs: 200, backoffMs: 10, maxAttempts: 3 })
  order(@MessagePayload() order: OrderDto, @MessageCtx() ctx: StreamMessageContext): void {
    this.rec.push({ h: 'stream-order', isDto: order instanceof OrderDto, order, ctx });
  }

  @UseGuards(TenantGuard)
  @StreamConsumer({ stream: 'pipe-guarded', group: 'g', blockMs: 200, backoffMs: 10, maxAttempts: 3 })
  guarded(@MessagePayload() payload: unknown): void {
    this.rec.push({ h: 'stream-guarded', payload });
  }

  @UseInterceptors(RecoverInterceptor)
  @StreamConsumer({ stream: 'pipe-recover', group: 'g', blockMs: 200, backoffMs: 10, maxAttempts: 3 })
  recover(): void {
    this.rec.push({ h: 'recover' });
    throw new Error('recoverable');
  }

  @UseFilters(RecordingFilter)
  @StreamConsumer({ stream: 'pipe-filtered', group: 'g', blockMs: 200, backoffMs: 10, maxAttempts: 3 })
  filtered(payload: { settle?: boolean }, message: StreamMessage): void {
    this.rec.push({ h: 'filtered', attempt: message.attempt });
    if (payload.settle) throw new SettleError('settle me');
    if (this.flaky++ === 0) throw new FlakyError('flaky once');
  }

  @StreamConsumer({ stream: 'pipe-legacy', group: 'g', blockMs: 200, backoffMs: 10, maxAttempts: 3 })
  legacy(payload: unknown, message: StreamMessage): void {
    this.rec.push({ h: 'stream-legacy', payload, message });
  }
}

/** Handlers of an application whose only global enhancer is an interceptor (no pipe: no parameter mapping). */
@Injectable()
class InterceptedOnly {
  constructor(@Inject(Recorder) private readonly rec: Recorder) {}

  @OnMessage('pipe.intercepted')
  legacy(payload: unknown, envelope: MessageEnvelope): void {
    this.rec.push({ h: 'intercepted', payload, envelope });
  }

  @UseGuards(TenantGuard)
  @StreamConsumer({ stream: 'pipe-intercepted', group: 'g', blockMs: 200, backoffMs: 10 })
  guarded(payload: unknown, message: StreamMessage): void {
    this.rec.push({ h: 'intercepted-stream', payload, attempt: message.attempt });
  }
}

/** A message handler on a controller, with a class guard Nest would not resolve there. */
@Controller()
@UseGuards(TenantGuard)
class GuardedController {
  @OnMessage('pipe.controller')
  handle(@MessagePayload() payload: unknown): unknown {
    return payload;
  }
}

/** The application's global enhancers, as a user registers them. */
const GLOBALS = [
  { provide: APP_PIPE, useValue: new ValidationPipe({ transform: true }) },
  { provide: APP_INTERCEPTOR, useClass: ObserveInterceptor },
];

// Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
describe(`Messaging: Nest's pipeline around @OnMessage and @StreamConsumer (${testTopology()})`, () => {
  let redis: TestRedis;
  let app: TestingModule;
  let rec: Recorder;
  let stats: MessagingStats;
  let producer: StreamProducer;
  let bus: EventBus;

  beforeAll(async () => {
    redis = await startTestRedis();
    app = await createMessagingApp(
      { ...redis.connection, keyPrefix: uniquePrefix('pipe') },
      { consumerDefaults: { blockMs: 200 } },
      [...GLOBALS, PubSubHandlers, StreamHandlers],
    );
    rec = app.get(Recorder);
    stats = app.get(MessagingStats);
    producer = app.get(StreamProducer);
    bus = app.get(EventBus);
  });
  afterAll(async () => {
    await app?.close();
    await redis.stop();
  });

  const items = <T>(h: string) => rec.items.filter((i) => (i as { h?: string }).h === h) as T[];
  const observed = (id: string) => rec.items.filter((i) => (i as { id?: string }).id === id);

  describe('pub/sub', () => {
    it('gives @MessagePayload() through the global ValidationPipe and @MessageCtx() the context', async () => {
      const sent = await bus.publish('pipe.order', { sku: 'A-1', qty: 2 }, { headers: { tenant: 'acme' } });
      await rec.until(() => items('order').length === 1 && items('sku').length === 1, 5_000, 'both handlers');
      const [seen] = items<{ isDto: boolean; order: OrderDto; ctx: MessageContext }>('order');
      expect(seen.isDto).toBe(true);
      expect(seen.order).toEqual({ sku: 'A-1', qty: 2 });
      expect(seen.ctx).toMatchObject({
        transport: 'pubsub',
        channel: 'pipe.order',
        messageId: sent.id,
        traceId: sent.headers.traceId,
        headers: { tenant: 'acme' },
        attempt: 1,
      });
      expect(seen.ctx.envelope.id).toBe(sent.id);
      expect(items('sku')).toEqual([{ h: 'sku', sku: 'A-1' }]);
      // the global interceptor saw both handlers, with the message context type
      await rec.until(() => observed(sent.id).length === 2, 5_000, 'interceptor');
      expect(observed(sent.id)).toEqual(
        expect.arrayContaining([
          { observed: 'ok', type: MESSAGE_CONTEXT_TYPE, handler: 'order', id: sent.id },
          { observed: 'ok', type: MESSAGE_CONTEXT_TYPE, handler: 'sku', id: sent.id },
        ]),
      );
    });

    it('drops a payload the global ValidationPipe rejects: the handler is not called, counted as rejected', async () => {
      const before = stats.snapshot();
      const sent = await bus.publish('pipe.order', { sku: 7, qty: 0 });
      await eventually(() => stats.snapshot().rejected >= before.rejected + 1, 5_000, 'rejected count');
      await rec.until(() => observed(sent.id).length === 2, 5_000, 'interceptor');
      expect(items<{ order: OrderDto }>('order').some((i) => i.order.qty === 0)).toBe(false);
      expect(observed(sent.id)).toContainEqual(
        expect.objectContaining({ observed: 'error', handler: 'order', error: 'Bad Request Exception' }),
      );
      expect(stats.snapshot().failed).toBe(before.failed);
    });

    it('drops a message a guard refuses, counted as rejected; the guard sees the headers', async () => {
      const before = stats.snapshot().rejected;
      await bus.publish('pipe.guarded', { n: 1 }, { headers: { tenant: 'other' } });
      await bus.publish('pipe.guarded', { n: 2 }, { headers: { tenant: 'acme' } });
      await rec.until(() => items('guarded').length === 1, 5_000, 'the allowed message');
      await eventually(() => stats.snapshot().rejected === before + 1, 5_000, 'rejected count');
      expect(items('guarded')).toEqual([{ h: 'guarded', payload: { n: 2 } }]);
    });

    it('keeps (payload, envelope) for a handler without parameter decorators', async () => {
      const sent = await bus.publish('pipe.legacy', { n: 1 });
      await rec.until(() => items('legacy').length === 1, 5_000, 'legacy handler');
      expect(items('legacy')).toEqual([{ h: 'legacy', payload: { n: 1 }, envelope: sent }]);
    });
  });

  describe('streams', () => {
    it('gives the validated payload and the stream context (stream, group, entry id, attempt, headers)', async () => {
      const { streamId } = await producer.add('pipe-orders', { sku: 'B-2', qty: 3 }, { headers: { tenant: 'acme' } });
      await rec.until(() => items('stream-order').length === 1, 10_000, 'stream handler');
      const [seen] = items<{ isDto: boolean; order: OrderDto; ctx: StreamMessageContext }>('stream-order');
      expect(seen.isDto).toBe(true);
      expect(seen.ctx).toMatchObject({
        transport: 'stream',
        stream: 'pipe-orders',
        group: 'g',
        streamId,
        attempt: 1,
        headers: { tenant: 'acme' },
      });
      expect(seen.ctx.messageId).toBe(seen.ctx.envelope.id);
    });

    it('dead-letters a payload the global ValidationPipe rejects at once, with the reason', async () => {
      const before = stats.snapshot();
      const { streamId } = await producer.add('pipe-orders', { sku: 'C-3', qty: 0 });
      await eventually(async () => (await producer.deadLetters('pipe-orders')).length === 1, 10_000, 'DLQ');
      const [dead] = await producer.deadLetters('pipe-orders');
      expect(dead).toMatchObject({ sourceId: streamId, attempts: 1, group: 'g' });
      expect(dead.error).toBe('rejected (400): qty must not be less than 1');
      const after = stats.snapshot();
      expect(after.rejected).toBe(before.rejected + 1);
      expect(after.retried).toBe(before.retried);
      expect(items<{ order: OrderDto }>('stream-order').some((i) => i.order.sku === 'C-3')).toBe(false);
      expect((await producer.info('pipe-orders')).groups[0].pending).toBe(0);
    });

    it('dead-letters a message a guard refuses, with the reason; lets the others through', async () => {
      const { streamId: refused } = await producer.add('pipe-guarded', { n: 1 }, { headers: { tenant: 'other' } });
      await producer.add('pipe-guarded', { n: 2 }, { headers: { tenant: 'acme' } });
      await rec.until(() => items('stream-guarded').length === 1, 10_000, 'the allowed message');
      await eventually(async () => (await producer.deadLetters('pipe-guarded')).length === 1, 10_000, 'DLQ');
      const [dead] = await producer.deadLetters('pipe-guarded');
      expect(dead).toMatchObject({ sourceId: refused, attempts: 1, error: 'rejected (403): Forbidden resource' });
      expect(items('stream-guarded')).toEqual([{ h: 'stream-guarded', payload: { n: 2 } }]);
    });

    it('acks a message whose failure an interceptor maps to a value (no retry)', async () => {
      const before = stats.snapshot();
      await producer.add('pipe-recover', { n: 1 });
      await rec.until(() => items('recover').length === 1, 10_000, 'handler');
      await eventually(async () => (await producer.info('pipe-recover')).groups[0]?.pending === 0, 10_000, 'ack');
      expect(items('recover')).toHaveLength(1);
      expect(stats.snapshot().retried).toBe(before.retried);
      expect((await producer.deadLetters('pipe-recover')).length).toBe(0);
    });

    it('shows handler errors to an exception filter: one that returns nothing leaves the retry, a value settles', async () => {
      await producer.add('pipe-filtered', {});
      await rec.until(() => items('filtered').length === 2, 10_000, 'the retry');
      expect(items('filtered')).toEqual([
        { h: 'filtered', attempt: 1 },
        { h: 'filtered', attempt: 2 },
      ]);
      await producer.add('pipe-filtered', { settle: true });
      await rec.until(() => items('filtered').length === 3, 10_000, 'the settled one');
      await eventually(async () => (await producer.info('pipe-filtered')).groups[0]?.pending === 0, 10_000, 'ack');
      expect(RecordingFilter.seen).toEqual([
        { error: 'flaky once', type: MESSAGE_CONTEXT_TYPE, attempt: 1 },
        { error: 'settle me', type: MESSAGE_CONTEXT_TYPE, attempt: 1 },
      ]);
      expect(items('filtered')).toHaveLength(3); // settled: not retried
      expect((await producer.deadLetters('pipe-filtered')).length).toBe(0);
    });

    it('keeps (payload, message) for a handler without parameter decorators', async () => {
      const { streamId } = await producer.add('pipe-legacy', { n: 1 });
      await rec.until(() => items('stream-legacy').length === 1, 10_000, 'legacy handler');
      const [seen] = items<{ payload: unknown; message: StreamMessage }>('stream-legacy');
      expect(seen.payload).toEqual({ n: 1 });
      expect(seen.message).toEqual({
        stream: 'pipe-legacy',
        group: 'g',
        streamId,
        envelope: expect.objectContaining({ type: 'pipe-legacy', payload: { n: 1 } }) as unknown,
        attempt: 1,
      });
    });
  });

  it('refuses at startup a handler on a controller with enhancers of its own (never skips a guard silently)', async () => {
    const ref = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ ...redis.connection, keyPrefix: uniquePrefix('pipe-ctl') }),
        MessagingModule.forRoot({}),
      ],
      controllers: [GuardedController],
    }).compile();
    ref.useLogger(false);
    try {
      const err: unknown = await ref.init().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RedisConfigError);
      expect((err as Error).message).toMatch(/"@OnMessage\(GuardedController.handle\)": is on a controller/);
    } finally {
      await ref.close();
    }
  });

  it('without any pipe, a handler without parameter decorators still gets (payload, envelope | message)', async () => {
    const other = await createMessagingApp(
      { ...redis.connection, keyPrefix: uniquePrefix('pipe-nopipe') },
      { consumerDefaults: { blockMs: 200 } },
      [{ provide: APP_INTERCEPTOR, useClass: ObserveInterceptor }, InterceptedOnly],
    );
    try {
      const seen = other.get(Recorder);
      const handled = <T>(h: string) => seen.items.filter((i) => (i as { h?: string }).h === h) as T[];
      const sent = await other.get(EventBus).publish('pipe.intercepted', { n: 1 });
      const otherProducer = other.get(StreamProducer);
      await otherProducer.add('pipe-intercepted', { n: 2 }, { headers: { tenant: 'other' } });
      await otherProducer.add('pipe-intercepted', { n: 3 }, { headers: { tenant: 'acme' } });
      await seen.until(
        () => handled('intercepted').length === 1 && handled('intercepted-stream').length === 1,
        10_000,
        'both',
      );
      expect(handled('intercepted')).toEqual([{ h: 'intercepted', payload: { n: 1 }, envelope: sent }]);
      expect(handled('intercepted-stream')).toEqual([{ h: 'intercepted-stream', payload: { n: 3 }, attempt: 1 }]);
      await eventually(async () => (await otherProducer.deadLetters('pipe-intercepted')).length === 1, 10_000, 'DLQ');
      expect((await otherProducer.deadLetters('pipe-intercepted'))[0].error).toBe('rejected (403): Forbidden resource');
      await seen.until(() => seen.items.some((i) => (i as { id?: string }).id === sent.id), 5_000, 'interceptor');
      expect(seen.items).toContainEqual({ observed: 'ok', type: MESSAGE_CONTEXT_TYPE, handler: 'legacy', id: sent.id });
    } finally {
      await other.close();
    }
  });
});
