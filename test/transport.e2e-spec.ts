import {
  Catch,
  Controller,
  Inject,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type INestApplication,
  type INestMicroservice,
  type NestInterceptor,
  type RpcExceptionFilter,
  type Type,
} from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { firstValueFrom, interval, lastValueFrom, map, take, throwError, toArray, type Observable } from 'rxjs';
import { RedisConfigError, RedisModule, RedisUnavailableError } from '../src/redis';
import { MessagingModule, MessagingStats, ReplicationTimeoutError, StreamProducer } from '../src/messaging';
import {
  RedisStreamsClient,
  RedisStreamsClientsModule,
  RedisStreamsContext,
  RedisStreamsRecord,
  RedisStreamsRecordBuilder,
  RedisStreamsTransportModule,
  RequestTimeoutError,
  TransportStats,
  type RedisStreamsTransportOptions,
} from '../src/transport';
import { TransportMetrics } from '../src/transport/transport.metrics';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { OrderDto, Recorder, eventually, startReadyChild } from './messaging/messaging-test.helpers';
import {
  FAST_CONSUMER,
  SERVICE_LABEL,
  createTransportApp,
  startHybridService,
  startMicroservice,
} from './transport/transport-test.helpers';

/** Records every event it gets, with the service's label and the context. */
@Controller()
class EventHandlers {
  constructor(
    @Inject(Recorder) private readonly rec: Recorder,
    @Inject(SERVICE_LABEL) private readonly label: string,
  ) {}

  @EventPattern<string>('order.created')
  created(@Payload() payload: { n: number }, @Ctx() ctx: RedisStreamsContext): void {
    this.rec.push({ by: this.label, n: payload.n, stream: ctx.getStream(), attempt: ctx.getAttempt() });
  }

  @EventPattern('order.checked')
  checked(@Payload() payload: OrderDto): void {
    this.rec.push({ by: this.label, checked: payload.sku });
  }

  /** Records a (delayed) reminder with the time it was handled and when it was due. */
  @EventPattern<string>('order.reminder')
  reminder(@Payload() payload: { n: number }, @Ctx() ctx: RedisStreamsContext): void {
    this.rec.push({ by: this.label, n: payload.n, at: Date.now(), dueAt: ctx.getDueAt()?.getTime() });
  }
}

@Injectable()
class AllowGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return (context.switchToRpc().getData() as { allow?: boolean }).allow === true;
  }
}

@Injectable()
class WrapInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value: unknown) => ({ wrapped: value })));
  }
}

class TeapotError extends Error {}

@Catch(TeapotError)
class TeapotFilter implements RpcExceptionFilter<TeapotError> {
  catch(err: TeapotError): Observable<never> {
    return throwError(() => ({ status: 'error', code: 'TEAPOT', message: err.message }));
  }
}

/** The request handlers of service `api`. */
@Controller()
class RequestHandlers {
  constructor(
    @Inject(Recorder) private readonly rec: Recorder,
    @Inject(SERVICE_LABEL) private readonly label: string,
  ) {}

  @MessagePattern('echo')
  echo(@Payload() payload: unknown, @Ctx() ctx: RedisStreamsContext) {
    return {
      echo: payload,
      by: this.label,
      attempt: ctx.getAttempt(),
      stream: ctx.getStream(),
      pattern: ctx.getPattern(),
      deadlineAhead: (ctx.getDeadline() ?? 0) > Date.now(),
      traceId: ctx.getTraceId(),
      tenant: ctx.getHeaders().tenant,
    };
  }

  @MessagePattern('order.validate')
  validate(@Payload() payload: OrderDto) {
    return { isDto: payload instanceof OrderDto, qty: payload.qty };
  }

  @UseGuards(AllowGuard)
  @MessagePattern('guarded')
  guarded(): string {
    return 'inside';
  }

  @MessagePattern('rpc.fail')
  fail(): never {
    throw new RpcException({ status: 'error', code: 'OUT_OF_STOCK', message: 'no stock left' });
  }

  @MessagePattern('boom')
  boom(): never {
    throw new Error('an internal detail');
  }

  @UseInterceptors(WrapInterceptor)
  @MessagePattern('wrapped')
  wrapped(): number {
    return 42;
  }

  @UseFilters(TeapotFilter)
  @MessagePattern('teapot')
  teapot(): never {
    throw new TeapotError('short and stout');
  }

  @MessagePattern('count')
  count(@Payload() payload: { to: number }): Observable<number> {
    return interval(5).pipe(
      take(payload.to),
      map((i) => i + 1),
    );
  }

  @MessagePattern('slow')
  async slow(@Payload() payload: { ms: number; n?: number }): Promise<string> {
    this.rec.push({ slowStarted: payload.n ?? 0 });
    await new Promise((r) => setTimeout(r, payload.ms));
    return 'done';
  }
}

function startResponderChild(connection: TestRedis['connection'], keyPrefix: string): Promise<ChildProcess> {
  return startReadyChild(join(__dirname, 'transport/responder.fixture.ts'), [JSON.stringify(connection), keyPrefix]);
}

type Closable = INestApplication | INestMicroservice | TestingModule;

describe(`Messaging transport: RedisStreamsServer / RedisStreamsClient (${testTopology()})`, () => {
  let redis: TestRedis;
  let open: Closable[] = [];

  /** Options of an app serving `service` (undefined: a pure client) whose client sends to `sendTo`. */
  const transport = (service?: string, sendTo?: string, requestTimeoutMs?: number): RedisStreamsTransportOptions => ({
    service,
    sendTo,
    requestTimeoutMs,
    consumer: FAST_CONSUMER,
  });
  const track = <T extends Closable>(app: T): T => {
    open.push(app);
    return app;
  };
  const client = async (keyPrefix: string, sendTo?: string, requestTimeoutMs?: number) => {
    const app = track(
      await createTransportApp({ ...redis.connection, keyPrefix }, transport(undefined, sendTo, requestTimeoutMs)),
    );
    return { app, client: app.get(RedisStreamsClient), stats: app.get(TransportStats) };
  };
  const service = async (keyPrefix: string, name: string, label: string, controllers: Type[] = [EventHandlers]) =>
    track(await startHybridService({ ...redis.connection, keyPrefix }, transport(name), controllers, label));

  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    await Promise.all(open.reverse().map((a) => a.close().catch(() => undefined)));
    open = [];
  });
  afterAll(async () => {
    await redis.stop();
  });

  describe('durable events', () => {
    it('an event emitted while its service is stopped is handled once when it starts', async () => {
      const keyPrefix = uniquePrefix('tr-stopped');
      const { client: c, stats } = await client(keyPrefix);
      for (let n = 1; n <= 3; n++) await lastValueFrom(c.emit('order.created', { n }));
      expect(stats.stats.emitted).toBe(3);
      const billing = await service(keyPrefix, 'billing', 'billing-1');
      const rec = billing.get(Recorder);
      await rec.until(() => rec.items.length >= 3, 10_000, 'three events');
      await new Promise((r) => setTimeout(r, 300));
      expect(rec.items).toEqual(
        [1, 2, 3].map((n) => ({ by: 'billing-1', n, stream: 'evt:order.created', attempt: 1 })),
      );
    });

    it('two instances of one service handle each event once; two services each get every event', async () => {
      const keyPrefix = uniquePrefix('tr-groups');
      const billing1 = await service(keyPrefix, 'billing', 'billing-1');
      const billing2 = await service(keyPrefix, 'billing', 'billing-2');
      const audit = await service(keyPrefix, 'audit', 'audit-1');
      const { client: c } = await client(keyPrefix);
      const total = 60;
      await Promise.all(Array.from({ length: total }, (_, i) => lastValueFrom(c.emit('order.created', { n: i }))));
      const recs = [billing1, billing2, audit].map((a) => a.get(Recorder));
      const count = (label: string) =>
        recs.flatMap((r) => r.items as Array<{ by: string; n: number }>).filter((i) => i.by.startsWith(label));
      await eventually(() => count('billing').length >= total && count('audit').length >= total, 15_000, 'events');
      await new Promise((r) => setTimeout(r, 500));
      const billingNs = count('billing').map((i) => i.n);
      expect(billingNs.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
      expect(
        count('audit')
          .map((i) => i.n)
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: total }, (_, i) => i));
    });

    it('a delayed emit (a record with delayMs or at) is handled once, not before due, after its emitter left; cancel removes one', async () => {
      const keyPrefix = uniquePrefix('tr-delayed');
      const billing = await service(keyPrefix, 'billing', 'billing-1');
      const audit = await service(keyPrefix, 'audit', 'audit-1');
      const { app: emitter, client: c, stats } = await client(keyPrefix, 'billing');
      const sentAt = Date.now();
      const [first, second, cancelled] = await Promise.all([
        lastValueFrom(c.emit<string>('order.reminder', new RedisStreamsRecord({ n: 1 }, { delayMs: 600 }))),
        lastValueFrom(
          c.emit<string>(
            'order.reminder',
            new RedisStreamsRecordBuilder({ n: 2 }).setOptions({ at: new Date(sentAt + 900) }).build(),
          ),
        ),
        lastValueFrom(c.emit<string>('order.reminder', new RedisStreamsRecord({ n: 3 }, { delayMs: 700 }))),
      ]);
      expect(new Set([first, second, cancelled]).size).toBe(3);
      expect(await c.cancel('order.reminder', cancelled)).toBe(true);
      expect(await c.cancel('order.reminder', cancelled)).toBe(false);
      expect(stats.stats).toMatchObject({ emitted: 3, emittedDelayed: 3 });
      // Delayed is not the same as "send()": a request refuses a delay.
      await expect(firstValueFrom(c.send('echo', new RedisStreamsRecord({}, { delayMs: 10 })))).rejects.toMatchObject({
        option: 'RedisStreamsRecord.delayMs',
      });
      expect(() => new RedisStreamsRecord({}, { delayMs: 1, at: new Date() })).toThrow('cannot be combined with at');
      // The emitter goes away before they are due: the services' own loops move them.
      await emitter.close();
      const recs = [billing, audit].map((a) => a.get(Recorder));
      type Reminder = { by: string; n: number; at: number; dueAt?: number };
      const items = () => recs.flatMap((r) => r.items as Reminder[]);
      await eventually(() => items().length >= 4, 10_000, 'two reminders for each service');
      await new Promise((r) => setTimeout(r, 1_000)); // a duplicate or the cancelled one would show up by now
      const all = items();
      expect(all.map((i) => `${i.by}:${i.n}`).sort()).toEqual(['audit-1:1', 'audit-1:2', 'billing-1:1', 'billing-1:2']);
      for (const i of all) {
        expect(i.dueAt).toBeDefined();
        expect(i.at).toBeGreaterThanOrEqual(i.dueAt ?? Infinity); // never before it is due
        expect(i.dueAt).toBeGreaterThanOrEqual(sentAt + (i.n === 1 ? 600 : 900));
      }
    });

    it("a record's replicated durability waits for replicas (WAIT): no replica → ReplicationTimeoutError or a report", async () => {
      // The test servers have no replicas: the WAIT times out, the event stays stored (and is handled).
      const keyPrefix = uniquePrefix('tr-durable');
      const billing = await service(keyPrefix, 'billing', 'billing-1');
      const { client: c } = await client(keyPrefix, 'billing');
      const durability = { durability: 'replicated' as const, replicas: 1, timeoutMs: 100 };
      await expect(
        lastValueFrom(c.emit('order.created', new RedisStreamsRecord({ n: 1 }, { durability }))),
      ).rejects.toBeInstanceOf(ReplicationTimeoutError);
      const reported = new RedisStreamsRecord({ n: 2 }, { durability: { ...durability, onShortfall: 'report' } });
      expect(await lastValueFrom(c.emit<string>('order.created', reported))).toMatch(/^\d+-\d+$/);
      // A request to a service with no instance: nothing can answer before the WAIT gives up.
      const { client: toNobody } = await client(keyPrefix, 'nobody');
      const request = new RedisStreamsRecord({}, { durability });
      await expect(firstValueFrom(toNobody.send('echo', request))).rejects.toBeInstanceOf(ReplicationTimeoutError);
      expect(() => new RedisStreamsRecord({}, { durability, delayMs: 10 })).toThrow('cannot be combined');
      expect(() => new RedisStreamsRecord({}, { durability: { ...durability, replicas: 0 } })).toThrow(
        RedisConfigError,
      );
      const rec = billing.get(Recorder);
      await eventually(() => rec.items.length >= 2, 10_000, 'both stored events handled');
    });

    it('an event failing validation (global ValidationPipe) is dead-lettered with the reason', async () => {
      const keyPrefix = uniquePrefix('tr-dlq');
      const billing = await service(keyPrefix, 'billing', 'billing-1');
      const { client: c } = await client(keyPrefix);
      await lastValueFrom(c.emit('order.checked', { sku: 'A', qty: 0 }));
      await lastValueFrom(c.emit('order.checked', { sku: 'B', qty: 1 }));
      const producer = billing.get(StreamProducer);
      await eventually(async () => (await producer.deadLetters('evt:order.checked')).length === 1, 10_000, 'DLQ');
      const [dead] = await producer.deadLetters('evt:order.checked');
      expect(dead.group).toBe('billing');
      expect(dead.error).toContain('"code":"INVALID"');
      expect(dead.error).toContain('qty must not be less than 1');
      const rec = billing.get(Recorder);
      await rec.until(() => rec.items.length >= 1, 5_000, 'valid event');
      expect(rec.items).toEqual([{ by: 'billing-1', checked: 'B' }]);
      expect(billing.get(MessagingStats).stats.deadLettered).toBe(1);
      // The metrics: counters, and the gauges of the streams this server reads.
      const metrics = billing.get(TransportMetrics).metrics();
      const collect = async (name: string) => metrics.find((m) => m.name === name)?.collect();
      expect(await collect('messaging_transport_events_failed_total')).toBe(2); // maxAttempts 2
      expect(await collect('messaging_transport_events_handled_total')).toBe(1);
      expect(await collect('messaging_transport_dead_letter_queue_length')).toEqual(
        expect.arrayContaining([{ labels: { stream: 'evt:order.checked' }, value: 1 }]),
      );
      expect(await collect('messaging_transport_consumer_group_lag')).toEqual(
        expect.arrayContaining([{ labels: { stream: 'evt:order.checked', group: 'billing' }, value: 0 }]),
      );
    });
  });

  describe('request-reply', () => {
    it('200 concurrent send() from two clients: every caller gets its own answer, replies packed per entry', async () => {
      const keyPrefix = uniquePrefix('tr-rpc');
      await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      await service(keyPrefix, 'api', 'api-2', [RequestHandlers]);
      const a = await client(keyPrefix, 'api');
      const b = await client(keyPrefix, 'api');
      const calls = Array.from({ length: 200 }, (_, i) => {
        const c = i % 2 === 0 ? a.client : b.client;
        return firstValueFrom(c.send<{ echo: { i: number; from: string } }>('echo', { i, from: c.replyStream }));
      });
      const answers = await Promise.all(calls);
      answers.forEach((answer, i) => {
        expect(answer.echo).toEqual({ i, from: (i % 2 === 0 ? a.client : b.client).replyStream });
      });
      expect(a.stats.stats.timeouts + a.stats.stats.lateReplies).toBe(0);
      // The replies one responder writes to one client in a tick share one entry (read pair by pair).
      const replyEntries = (await a.app.get(StreamProducer).info(a.client.replyStream)).length;
      expect(replyEntries).toBeGreaterThan(0);
      expect(replyEntries).toBeLessThan(100);
    });

    it('the handler sees its context: stream, attempt, deadline, trace id, the caller metadata and record headers', async () => {
      const keyPrefix = uniquePrefix('tr-ctx');
      await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      const { client: c } = await client(keyPrefix, 'api');
      c.setOnDispatchHook((packet) => {
        packet.metadata = { tenant: 't-42', traceId: 'trace-1' };
      });
      const answer = await firstValueFrom(c.send('echo', { x: 1 }));
      expect(answer).toEqual({
        echo: { x: 1 },
        by: 'api-1',
        attempt: 1,
        stream: 'rpc:api',
        pattern: 'echo',
        deadlineAhead: true,
        traceId: 'trace-1',
        tenant: 't-42',
      });
      // Per message: a record's headers win over the hook's; its timeout over the client's.
      const record = new RedisStreamsRecord({ x: 2 }, { headers: { tenant: 't-7' } });
      expect(await firstValueFrom(c.send('echo', record))).toMatchObject({ echo: { x: 2 }, tenant: 't-7' });
      const late = new RedisStreamsRecord({ ms: 500 }, { timeoutMs: 100 });
      await expect(firstValueFrom(c.send('slow', late))).rejects.toMatchObject({
        name: 'RequestTimeoutError',
        timeoutMs: 100,
      });
      expect(() => new RedisStreamsRecord(1, { timeoutMs: -1 })).toThrow(
        expect.objectContaining({ option: 'RedisStreamsRecord.timeoutMs' }) as unknown as Error,
      );
    });

    it('a pure microservice (createNestMicroservice with the injected strategy) answers too', async () => {
      const keyPrefix = uniquePrefix('tr-pure');
      track(await startMicroservice({ ...redis.connection, keyPrefix }, transport('api'), [RequestHandlers], 'pure'));
      const { client: c } = await client(keyPrefix, 'api');
      expect(await firstValueFrom(c.send('echo', 'hi'))).toMatchObject({ echo: 'hi', by: 'pure' });
    });

    it("Nest's pipeline reaches the caller: validation, guard, RpcException, unknown error, interceptor, filter", async () => {
      const keyPrefix = uniquePrefix('tr-pipe');
      await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      const { client: c } = await client(keyPrefix, 'api');
      const call = (pattern: string, data: unknown) => firstValueFrom(c.send(pattern, data));
      await expect(call('order.validate', { sku: 'A', qty: 2 })).resolves.toEqual({ isDto: true, qty: 2 });
      await expect(call('order.validate', { sku: 'A', qty: 0 })).rejects.toEqual({
        status: 'error',
        code: 'INVALID',
        message: 'qty must not be less than 1',
        errors: ['qty must not be less than 1'],
      });
      await expect(call('guarded', { allow: true })).resolves.toBe('inside');
      await expect(call('guarded', { allow: false })).rejects.toEqual({
        status: 'error',
        message: 'Forbidden resource',
      });
      await expect(call('rpc.fail', {})).rejects.toEqual({
        status: 'error',
        code: 'OUT_OF_STOCK',
        message: 'no stock left',
      });
      await expect(call('boom', {})).rejects.toEqual({ status: 'error', message: 'Internal server error' });
      await expect(call('wrapped', {})).resolves.toEqual({ wrapped: 42 });
      await expect(call('teapot', {})).rejects.toEqual({ status: 'error', code: 'TEAPOT', message: 'short and stout' });
      await expect(call('no.such.pattern', {})).rejects.toEqual({
        status: 'error',
        message: 'There is no matching message handler defined in the remote service.',
      });
    });

    it('an Observable handler streams several replies, then completes', async () => {
      const keyPrefix = uniquePrefix('tr-stream');
      await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      const { client: c } = await client(keyPrefix, 'api');
      expect(await lastValueFrom(c.send<number>('count', { to: 4 }).pipe(toArray()))).toEqual([1, 2, 3, 4]);
    });

    it('times out with RequestTimeoutError; the late reply is dropped and counted; unsubscribing cancels', async () => {
      const keyPrefix = uniquePrefix('tr-timeout');
      await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      const { client: c, stats } = await client(keyPrefix, 'api', 300);
      const error = await firstValueFrom(c.send('slow', { ms: 700 })).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(RequestTimeoutError);
      expect(error).toMatchObject({ pattern: 'slow', service: 'api', timeoutMs: 300 });
      await eventually(() => stats.stats.lateReplies === 1, 5_000, 'late reply');

      const sub = c.send('slow', { ms: 100 }).subscribe({ next: () => fail('no value after unsubscribe') });
      await new Promise((r) => setTimeout(r, 20));
      sub.unsubscribe();
      expect(c.inFlight).toBe(0);
      await eventually(() => stats.stats.lateReplies === 2, 5_000, 'reply after unsubscribe');
      expect(stats.stats).toMatchObject({ timeouts: 1, cancelled: 1 });
    });

    it('a request whose caller has timed out before any instance read it is not processed', async () => {
      const keyPrefix = uniquePrefix('tr-expired');
      const { client: c } = await client(keyPrefix, 'api', 200);
      await expect(firstValueFrom(c.send('slow', { ms: 1, n: 7 }))).rejects.toBeInstanceOf(RequestTimeoutError);
      const api = await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      await eventually(() => api.get(TransportStats).stats.requestsExpired === 1, 10_000, 'expired request dropped');
      expect(api.get(Recorder).items).toEqual([]);
    });

    it('a responder shutting down finishes the requests it has started and replies', async () => {
      const keyPrefix = uniquePrefix('tr-drain');
      const api = await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      const { client: c } = await client(keyPrefix, 'api');
      const reply = firstValueFrom(c.send('slow', { ms: 400, n: 1 }));
      const rec = api.get(Recorder);
      await rec.until(() => rec.items.length === 1, 5_000, 'request started');
      await api.close();
      await expect(reply).resolves.toBe('done');
    });

    it('several target services through RedisStreamsClientsModule, each client under its token', async () => {
      const keyPrefix = uniquePrefix('tr-clients');
      await service(keyPrefix, 'api', 'api-1', [RequestHandlers]);
      await service(keyPrefix, 'other', 'other-1', [RequestHandlers]);
      const ref = track(
        await Test.createTestingModule({
          imports: [
            RedisModule.forRoot({ ...redis.connection, keyPrefix }),
            MessagingModule.forRoot({}),
            RedisStreamsTransportModule.forRoot({}),
            RedisStreamsClientsModule.register([
              { name: 'API', service: 'api' },
              { name: 'OTHER', service: 'other', requestTimeoutMs: 1_000 },
            ]),
          ],
        }).compile(),
      );
      await ref.init();
      const api = ref.get<RedisStreamsClient>('API');
      const other = ref.get<RedisStreamsClient>('OTHER');
      expect(api.replyStream).not.toBe(other.replyStream);
      expect(await firstValueFrom(api.send('echo', 1))).toMatchObject({ by: 'api-1' });
      expect(await firstValueFrom(other.send('echo', 2))).toMatchObject({ by: 'other-1' });
    });
  });

  describe('failures', () => {
    it('responder killed mid-request: timeout within timeout + 1 s, and the request is never run again (at-most-once)', async () => {
      const keyPrefix = uniquePrefix('tr-kill');
      const child = await startResponderChild(redis.connection, keyPrefix);
      const raw = redis.client();
      try {
        const { client: c } = await client(keyPrefix, 'slowsvc', 1_500);
        const started = Date.now();
        const outcome = firstValueFrom(c.send('slow', { n: 1 })).catch((err: unknown) => err);
        await eventually(async () => (await raw.sismember(`${keyPrefix}started`, '1')) === 1, 5_000, 'handler start');
        child.kill('SIGKILL');
        const error = await outcome;
        const elapsed = Date.now() - started;
        expect(error).toBeInstanceOf(RequestTimeoutError);
        expect(elapsed).toBeLessThan(1_500 + 1_000);

        // The request was acked when it started: no other instance ever runs it (several reclaim scans later).
        const survivor = await service(keyPrefix, 'slowsvc', 'survivor', [RequestHandlers]);
        await new Promise((r) => setTimeout(r, 2_000));
        const pending = (await raw.call('XPENDING', `${keyPrefix}msg:stream:{rpc:slowsvc}`, 'slowsvc')) as unknown[];
        expect(Number(pending[0])).toBe(0);
        expect(survivor.get(Recorder).items).toEqual([]);
        expect(survivor.get(TransportStats).stats.requestsHandled).toBe(0);
      } finally {
        child.kill('SIGKILL');
        raw.disconnect();
      }
    }, 60_000);

    it('Redis down: emit and send reject with RedisUnavailableError within the command timeout; consumers recover', async () => {
      const own = await startTestRedis();
      const keyPrefix = uniquePrefix('tr-down');
      const conn = { ...own.connection, keyPrefix, commandTimeoutMs: 500 };
      try {
        const billing = track(await startHybridService(conn, transport('billing'), [EventHandlers], 'billing-1'));
        const api = track(await startHybridService(conn, transport('api'), [RequestHandlers], 'api-1'));
        const caller = track(await createTransportApp(conn, transport(undefined, 'api')));
        const c = caller.get(RedisStreamsClient);
        expect(await firstValueFrom(c.send('echo', 1))).toMatchObject({ echo: 1 });

        await own.kill();
        let started = Date.now();
        await expect(lastValueFrom(c.emit('order.created', { n: 1 }))).rejects.toBeInstanceOf(RedisUnavailableError);
        expect(Date.now() - started).toBeLessThan(500 + 2_000);
        started = Date.now();
        await expect(firstValueFrom(c.send('echo', 2))).rejects.toBeInstanceOf(RedisUnavailableError);
        expect(Date.now() - started).toBeLessThan(500 + 2_000);

        await own.start(); // empty: the servers create their groups again
        const rec = billing.get(Recorder);
        await eventually(
          async () => {
            await lastValueFrom(c.emit('order.created', { n: 2 })).catch(() => undefined);
            return rec.items.some((i) => (i as { n: number }).n === 2);
          },
          20_000,
          'an event after the outage',
        );
        await eventually(
          async () => {
            const answer = await firstValueFrom(c.send('echo', 3)).catch(() => undefined);
            return (answer as { echo?: number } | undefined)?.echo === 3;
          },
          20_000,
          'a reply after the outage',
        );
        expect(api.get(TransportStats).stats.requestsHandled).toBeGreaterThanOrEqual(2);
      } finally {
        await Promise.all(open.reverse().map((a) => a.close().catch(() => undefined)));
        open = [];
        await own.stop();
      }
    }, 90_000);

    it('refuses to serve without a service name, naming the option', async () => {
      const keyPrefix = uniquePrefix('tr-noservice');
      await expect(
        startHybridService({ ...redis.connection, keyPrefix }, {}, [EventHandlers], 'x'),
      ).rejects.toMatchObject({ name: 'RedisConfigError', option: 'transport.service' });
    });
  });
});
