/**
 * OpenTelemetry traces of the reference service: one `POST /orders` (a SKU kept in the inventory) gives one trace
 * with the HTTP span as its root, the transport request to the inventory service and its lock's spans, the order
 * event's producer span and the notifications consumer's span, child of the producer's and linked to it. First with
 * every service in the same process (spans in an in-memory exporter), then with the notifications consumer in a
 * separate worker process that exports OTLP/HTTP (JSON) to a small receiver here, started through
 * OTEL_EXPORTER_OTLP_ENDPOINT like any deployment.
 * Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import type { INestApplication } from '@nestjs/common';
import { SpanKind } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { startSdk } from '../src/app/telemetry/telemetry.sdk';
import { bootApp } from './support/app-boot';
import { createTestDatabase } from './support/test-database';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { eventually } from './messaging/messaging-test.helpers';

/** A span as the OTLP/JSON exporter sends it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/** A minimal OTLP/HTTP receiver (JSON): keeps the spans posted to /v1/traces, answers 200 to everything. */
async function startOtlpReceiver(): Promise<{ url: string; spans: OtlpSpan[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/v1/traces' && body) {
        const data = JSON.parse(body) as {
          resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: OtlpSpan[] }> }>;
        };
        for (const rs of data.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Signs a new user up, logs in, stocks `sku`; the session cookie. */
async function shopper(app: INestApplication, username: string, sku: string): Promise<string> {
  const http = app.getHttpServer();
  const password = 'tracing-password-1';
  await request(http)
    .post('/users')
    .send({ username, password, displayName: username, email: `${username}@example.com` })
    .expect(201);
  const res = await request(http).post('/auth/login').send({ username, password }).expect(200);
  await request(http).post('/inventory').send({ sku, stock: 10 }).expect(201);
  return (res.headers['set-cookie'] as unknown as string[]).find((h) => h.startsWith('nrk.sid='))!.split(';')[0];
}

/**
 * Jest hands the modules of a test their own `module` object, so the HTTP instrumentation's require hook never sees
 * `http` loaded here: its patch is applied to Node's `http` directly (what the hook does in a real process; the
 * worker process below gets it through the hook).
 */
function instrumentHttpInJest(): void {
  // Outgoing requests (supertest's) untraced: the server span is the root, as behind a client without tracing.
  const instrumentation = new HttpInstrumentation({ ignoreOutgoingRequestHook: () => true });
  for (const definition of instrumentation.getModuleDefinitions()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (definition.name === 'http') definition.patch?.(require('node:http'), process.versions.node);
  }
}

const isHttpRoot = (s: ReadableSpan) => s.kind === SpanKind.SERVER && !s.parentSpanContext;

describe(`Tracing of the reference service (OpenTelemetry, ${testTopology()})`, () => {
  const exporter = new InMemorySpanExporter();
  let sdk: ReturnType<typeof startSdk>;
  let redis: TestRedis;

  beforeAll(async () => {
    // The SDK of the reference service (telemetry.sdk.ts: HTTP + express instrumentations), spans kept in memory.
    sdk = startSdk({ serviceName: 'tracing-e2e', spanProcessors: [new SimpleSpanProcessor(exporter)] });
    instrumentHttpInJest();
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    await sdk?.shutdown();
  });
  beforeEach(() => exporter.reset());

  /** The spans of the trace whose root is the HTTP span of `POST /orders`. */
  function orderTrace(): { root: ReadableSpan; spans: ReadableSpan[] } {
    const finished = exporter.getFinishedSpans();
    const root = finished.find(
      (s) => isHttpRoot(s) && /POST/.test(s.name) && /orders/.test(JSON.stringify(s.attributes)),
    );
    if (!root) throw new Error(`no HTTP span of POST /orders among ${finished.map((s) => s.name).join(', ')}`);
    return { root, spans: finished.filter((s) => s.spanContext().traceId === root.spanContext().traceId) };
  }

  it('one POST /orders: HTTP root → inventory request → lock → event produce → consume, one trace', async () => {
    const booted = await bootApp({ ...redis.env, REDIS_KEY_PREFIX: uniquePrefix('trace') }, { listen: true });
    try {
      const cookie = await shopper(booted.app, 'traced1', 'TRACED-1');
      exporter.reset();
      await request(booted.app.getHttpServer())
        .post('/orders')
        .set('Cookie', cookie)
        .send({ sku: 'TRACED-1', qty: 1 })
        .expect(201);
      // The notifications service's span of the order's event (its stream: the transport's `evt:order.created`).
      const isNotification = (s: ReadableSpan) =>
        s.kind === SpanKind.CONSUMER && s.attributes['messaging.consumer.group.name'] === 'notifications';
      await eventually(() => exporter.getFinishedSpans().some(isNotification), 15_000, 'the consumer span').catch(
        (err: Error) => {
          throw new Error(
            `${err.message}: ${exporter
              .getFinishedSpans()
              .map((s) => s.name)
              .join(', ')}`,
          );
        },
      );
      const { root, spans } = orderTrace();
      const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
      const descendsFromRoot = (s: ReadableSpan): boolean => {
        for (let p = s.parentSpanContext; p; p = byId.get(p.spanId)?.parentSpanContext) {
          if (p.spanId === root.spanContext().spanId) return true;
        }
        return false;
      };
      expect(spans.map((s) => s.name)).toEqual(expect.arrayContaining(['lock acquire', 'lock held']));

      // The stock is reserved under the lock by the inventory service (a transport request): all in the trace.
      const acquire = spans.find((s) => s.name === 'lock acquire')!;
      expect(acquire.attributes['nrk.lock.resources']).toEqual([expect.stringContaining('TRACED-1')]);
      expect(acquire.attributes['nrk.lock.wait_ms']).toEqual(expect.any(Number));
      expect(acquire.attributes['nrk.lock.fence']).toEqual(expect.any(Number));
      expect(descendsFromRoot(acquire)).toBe(true);
      expect(descendsFromRoot(spans.find((s) => s.name === 'lock held')!)).toBe(true);

      // The order's event: produced under the request, consumed as the producer span's child, linked to it.
      const consume = spans.find(isNotification)!;
      const produce = byId.get(consume.parentSpanContext!.spanId)!;
      expect(produce.kind).toBe(SpanKind.PRODUCER);
      expect(produce.name).toBe(consume.name.replace(/^process /, 'publish '));
      expect(produce.attributes).toMatchObject({ 'messaging.system': 'redis', 'messaging.operation': 'publish' });
      expect(descendsFromRoot(produce)).toBe(true);
      expect(consume.links.map((l) => l.context.spanId)).toEqual([produce.spanContext().spanId]);
      expect(consume.attributes).toMatchObject({ 'messaging.operation': 'process', 'nrk.messaging.attempt': 1 });
      // The session was loaded under the request too.
      expect(spans.some((s) => s.name === 'session load' && descendsFromRoot(s))).toBe(true);
    } finally {
      await booted.close();
    }
  });

  it('the same trace when the consumer is a separate worker process exporting OTLP', async () => {
    const receiver = await startOtlpReceiver();
    const database = await createTestDatabase('tracing');
    const env = { ...redis.env, REDIS_KEY_PREFIX: uniquePrefix('traceworker'), DATABASE_URL: database.url };
    const booted = await bootApp({ ...env, MESSAGING_CONSUMERS: 'false' }, { listen: true });
    let worker: ChildProcess | undefined;
    let output = '';
    try {
      const cookie = await shopper(booted.app, 'traced2', 'TRACED-2');
      worker = spawn(
        process.execPath,
        ['-r', join(__dirname, '../scripts/swc-register.cjs'), join(__dirname, '../src/app/worker.ts')],
        {
          cwd: join(__dirname, '..'),
          env: {
            ...process.env,
            ...env,
            NODE_ENV: 'test',
            LOG_LEVEL: 'info',
            WORKER_PORT: '0',
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
            OTEL_SERVICE_NAME: 'tracing-e2e-worker',
            OTEL_BSP_SCHEDULE_DELAY: '100',
            OTEL_METRICS_EXPORTER: 'none',
            OTEL_LOGS_EXPORTER: 'none',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      worker.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      worker.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      exporter.reset();
      await request(booted.app.getHttpServer())
        .post('/orders')
        .set('Cookie', cookie)
        .send({ sku: 'TRACED-2', qty: 1 })
        .expect(201);
      const { root, spans } = orderTrace();
      const traceId = root.spanContext().traceId;
      const isNotification = (s: OtlpSpan) =>
        s.kind === 5 && // OTLP SPAN_KIND_CONSUMER
        s.traceId === traceId &&
        s.attributes?.some((a) => a.key === 'messaging.consumer.group.name' && a.value.stringValue === 'notifications');
      await eventually(() => receiver.spans.some(isNotification), 30_000, 'the worker span of the order').catch(
        (err: Error) => {
          throw new Error(
            `${err.message}; received ${receiver.spans.map((s) => s.name).join(', ')}; worker:\n${output}`,
          );
        },
      );
      // The worker's span is the child of the API's producer span, and links to it.
      const consume = receiver.spans.find(isNotification)!;
      const produce = spans.find((s) => s.spanContext().spanId === consume.parentSpanId)!;
      expect(produce?.kind).toBe(SpanKind.PRODUCER);
      expect(produce.name).toBe(consume.name.replace(/^process /, 'publish '));
      expect(consume.links?.map((l) => l.spanId)).toEqual([produce.spanContext().spanId]);
      // The worker's own work (it confirms the order and broadcasts order.confirmed) is in the same trace.
      await eventually(
        () => receiver.spans.some((s) => s.name === 'publish order.confirmed' && s.traceId === traceId),
        15_000,
        'the worker publishing order.confirmed in the trace',
      );
    } finally {
      if (worker && worker.exitCode === null && worker.signalCode === null) {
        const exited = new Promise((resolve) => worker!.once('exit', resolve));
        worker.kill('SIGTERM');
        await exited;
      }
      await booted.close();
      await database.drop();
      await receiver.close();
    }
  });
});
