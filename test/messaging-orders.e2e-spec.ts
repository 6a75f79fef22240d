/**
 * The shop's order flow end to end: POST /orders (logged in) stores the order, the inventory service reserves its
 * stock (a `send()` through the transport), the order becomes pending and `order.created` goes to its stream; the
 * notifications service (a durable `@EventPattern`) confirms it and broadcasts `order.confirmed`, which GET /events
 * relays as Server-Sent Events. First in one process (`npm start`), then split: the API alone, the inventory
 * service (`start:inventory`) and the notifications service (`start:worker`) as separate processes.
 * Topology-aware (test/support/redis-harness.ts): one redis-server, or a 3-master cluster with REDIS_TOPOLOGY=cluster.
 */
import type { INestApplication } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { bootApp, type BootedApp } from './support/app-boot';
import { createTestDatabase } from './support/test-database';
import { startTestRedis, testTopology, uniquePrefix, type TestRedis } from './support/redis-harness';
import { eventually } from './messaging/messaging-test.helpers';

function cookieOf(res: request.Response): string {
  const raw = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  const found = raw.find((h) => h.startsWith('nrk.sid='));
  if (!found) throw new Error('no session cookie');
  return found.split(';')[0];
}

async function signUpAndLogin(app: INestApplication, username: string): Promise<string> {
  const server = app.getHttpServer();
  const password = 'orders-password-1';
  await request(server)
    .post('/users')
    .send({ username, password, displayName: username, email: `${username}@example.com` })
    .expect(201);
  return cookieOf(await request(server).post('/auth/login').send({ username, password }).expect(200));
}

/**
 * Opens GET /events and collects the SSE `event:` names and data; resolves at the `ready` event (the subscription is
 * live from then on: an event published after it is never missed).
 */
function followEvents(
  app: INestApplication,
  cookie: string,
): Promise<{ events: Array<{ type: string; data: unknown }>; close(): void }> {
  const { port } = (app.getHttpServer() as { address(): AddressInfo }).address();
  return new Promise((resolve, reject) => {
    const events: Array<{ type: string; data: unknown }> = [];
    const req = get(
      { host: '127.0.0.1', port, path: '/events', headers: { Cookie: cookie, Accept: 'text/event-stream' } },
      (res: IncomingMessage) => {
        if (res.statusCode !== 200) return reject(new Error(`GET /events: ${res.statusCode}`));
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const type = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (type === 'ready') resolve({ events, close: () => req.destroy() });
            else if (type && data) events.push({ type, data: JSON.parse(data) as unknown });
          }
        });
        res.on('end', () => reject(new Error('GET /events ended before its ready event')));
      },
    );
    req.on('error', (err) => {
      if (!req.destroyed) reject(err);
    });
  });
}

async function waitConfirmed(app: INestApplication, cookie: string, id: number): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await eventually(
    async () => {
      const res = await request(app.getHttpServer()).get(`/orders/${id}`).set('Cookie', cookie).expect(200);
      last = res.body as Record<string, unknown>;
      return last.status === 'confirmed';
    },
    15_000,
    `order ${id} confirmed`,
  );
  return last;
}

describe(`Order flow (reference service, ${testTopology()})`, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('POST /orders → pending → confirmed by the notifications consumer; SSE relays order.* events', async () => {
    const booted: BootedApp = await bootApp({ ...redis.env, REDIS_KEY_PREFIX: uniquePrefix('shop') }, { listen: true });
    const { app } = booted;
    const http = app.getHttpServer();
    try {
      await request(http).post('/orders').send({ sku: 'ABC-1', qty: 2 }).expect(401);
      const cookie = await signUpAndLogin(app, 'shopper1');
      const bad = await request(http).post('/orders').set('Cookie', cookie).send({ sku: '', qty: 0 }).expect(400);
      expect(JSON.stringify(bad.body.message)).toMatch(/sku/);
      expect(JSON.stringify(bad.body.message)).toMatch(/qty/);
      await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'A', qty: '2' }).expect(400);
      await request(http).get('/orders/abc').set('Cookie', cookie).expect(400);
      await request(http).get('/orders/999999').set('Cookie', cookie).expect(404);

      const sse = await followEvents(app, cookie);
      const created = await request(http)
        .post('/orders')
        .set('Cookie', cookie)
        .set('X-Request-Id', 'trace-order-abc-1')
        .send({ sku: 'ABC-1', qty: 2 })
        .expect(201);
      expect(created.body).toMatchObject({ sku: 'ABC-1', qty: 2, status: 'pending' });
      const id = created.body.id as number;
      const order = await waitConfirmed(app, cookie, id);
      expect(order).toMatchObject({ id, sku: 'ABC-1', qty: 2, status: 'confirmed', createdAt: expect.any(String) });

      await eventually(() => sse.events.some((e) => e.type === 'order.confirmed'), 5_000, 'SSE order.confirmed');
      sse.close();
      expect(sse.events.map((e) => e.type)).toEqual(['order.created', 'order.confirmed']);
      expect(sse.events[1].data).toMatchObject({ type: 'order.confirmed', payload: { orderId: id } });
      // The HTTP request id travelled as the trace id: request → stream message → consumer → pub/sub event.
      for (const e of sse.events) expect(e.data).toMatchObject({ headers: { traceId: 'trace-order-abc-1' } });

      // Another user neither sees the order nor its events.
      const other = await signUpAndLogin(app, 'shopper2');
      await request(http).get(`/orders/${id}`).set('Cookie', other).expect(404);
    } finally {
      await booted.close();
    }
  });

  it('an order for a SKU kept in the inventory reserves its stock under the lock: 409 when short, never oversold', async () => {
    // The inventory may take its time for 12 buyers of one SKU on a loaded machine: the API waits for its answer
    // (423 when the SKU's lock stays busy), rather than timing out (503, a failed order whose stock comes back later).
    const booted = await bootApp(
      { ...redis.env, REDIS_KEY_PREFIX: uniquePrefix('stock'), ORDER_RESERVE_TIMEOUT_MS: '5000' },
      { listen: true },
    );
    const http = booted.app.getHttpServer();
    try {
      const cookie = await signUpAndLogin(booted.app, 'stockbuyer');
      await request(http).post('/inventory').send({ sku: 'STOCKED-1', stock: 10 }).expect(201);
      await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'STOCKED-1', qty: 4 }).expect(201);
      await request(http).get('/inventory/STOCKED-1').expect(200, { sku: 'STOCKED-1', stock: 6 });
      const short = await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'STOCKED-1', qty: 7 });
      expect(short.status).toBe(409);
      expect(short.body.message).toMatch(/insufficient stock/);

      // 12 concurrent one-unit orders on the 6 left: exactly 6 accepted (retried while the lock is busy).
      const place = async (): Promise<number> => {
        for (;;) {
          const res = await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'STOCKED-1', qty: 1 });
          if (res.status !== 423) return res.status;
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const statuses = await Promise.all(Array.from({ length: 12 }, place));
      expect(statuses.filter((s) => s === 201)).toHaveLength(6);
      expect(statuses.filter((s) => s === 409)).toHaveLength(6);
      await request(http).get('/inventory/STOCKED-1').expect(200, { sku: 'STOCKED-1', stock: 0 });
    } finally {
      await booted.close();
    }
  });

  it('split shape: the API alone (MESSAGING_CONSUMERS=false, INVENTORY_SERVER=false), start:inventory reserves, start:worker confirms', async () => {
    const database = await createTestDatabase('orders');
    const keyPrefix = uniquePrefix('worker');
    const env = { ...redis.env, REDIS_KEY_PREFIX: keyPrefix, DATABASE_URL: database.url }; // the workers' too
    const booted = await bootApp({ ...env, MESSAGING_CONSUMERS: 'false', INVENTORY_SERVER: 'false' }, { listen: true });
    const children: ChildProcess[] = [];
    const spawnService = (entry: string, portVar: string): { child: ChildProcess; output: () => string } => {
      let output = '';
      const child = spawn(
        process.execPath,
        ['-r', join(__dirname, '../scripts/swc-register.cjs'), join(__dirname, `../src/app/${entry}.ts`)],
        {
          cwd: join(__dirname, '..'),
          env: { ...process.env, ...env, NODE_ENV: 'test', LOG_LEVEL: 'info', [portVar]: '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      children.push(child);
      return { child, output: () => output };
    };
    const stop = async (child: ChildProcess): Promise<string> => {
      const exited = new Promise<string>((resolve) =>
        child.once('exit', (code, signal) => resolve(`${code}/${signal}`)),
      );
      child.kill('SIGTERM');
      return exited;
    };
    let sse: Awaited<ReturnType<typeof followEvents>> | undefined;
    try {
      const { app } = booted;
      const http = app.getHttpServer();
      const cookie = await signUpAndLogin(app, 'shopper3');
      await request(http).post('/inventory').send({ sku: 'W-1', stock: 5 }).expect(201);
      // Nobody serves the inventory yet: the order fails cleanly (503, bounded) and takes nothing.
      const refused = await request(http).post('/orders').set('Cookie', cookie).send({ sku: 'W-1', qty: 1 });
      expect(refused.status).toBe(503);

      const inventory = spawnService('inventory-worker', 'INVENTORY_PORT');
      await eventually(
        () => /inventory: service \\"inventory\\" answering rpc:inventory/.test(inventory.output()),
        30_000,
        'inventory up',
      ).catch((err: Error) => {
        throw new Error(`${err.message}; inventory output:\n${inventory.output()}`);
      });
      const created = await request(http)
        .post('/orders')
        .set('Cookie', cookie)
        .send({ sku: 'W-1', qty: 2 })
        .expect(201);
      await request(http).get('/inventory/W-1').expect(200, { sku: 'W-1', stock: 3 });
      await new Promise((r) => setTimeout(r, 500));
      const pending = await request(http).get(`/orders/${created.body.id}`).set('Cookie', cookie).expect(200);
      expect(pending.body.status).toBe('pending'); // nobody handles order.created in the API
      sse = await followEvents(app, cookie);

      const worker = spawnService('worker', 'WORKER_PORT');
      const order = await waitConfirmed(app, cookie, created.body.id as number).catch((err: Error) => {
        throw new Error(`${err.message}; worker output:\n${worker.output()}`);
      });
      expect(order.status).toBe('confirmed');
      expect(worker.output()).toMatch(/worker: service \\"notifications\\" handling evt:order\.created/);
      // JSON log lines, and the probes on WORKER_PORT: health (Redis + database) and metrics (consumer lag)
      const started = worker
        .output()
        .split('\n')
        .find((l) => l.includes('worker: service'));
      expect(JSON.parse(started!)).toMatchObject({ level: 30, context: 'Worker' });
      const probes = `http://127.0.0.1:${/probes on http:\/\/localhost:(\d+)/.exec(started!)![1]}`;
      expect((await fetch(`${probes}/health/ready`)).status).toBe(200);
      const metrics = await (await fetch(`${probes}/metrics`)).text();
      expect(metrics).toMatch(/^nrk_messaging_transport_consumer_group_lag\{.*order\.created.*\} 0$/m);
      expect(metrics).toMatch(/^nrk_messaging_transport_events_handled_total [1-9]\d*$/m);
      // The worker's order.confirmed reaches the API's SSE subscribers: both processes use the same pub/sub mode.
      const events = sse.events;
      await eventually(() => events.some((e) => e.type === 'order.confirmed'), 5_000, 'SSE order.confirmed');
      expect(events.find((e) => e.type === 'order.confirmed')?.data).toMatchObject({
        payload: { orderId: created.body.id },
      });

      // Both stop on SIGTERM through Nest's shutdown hooks (which re-raise the signal once closed).
      expect(['0/null', 'null/SIGTERM']).toContain(await stop(worker.child));
      expect(['0/null', 'null/SIGTERM']).toContain(await stop(inventory.child));
      await request(http).get('/inventory/W-1').expect(200, { sku: 'W-1', stock: 3 });
    } finally {
      sse?.close();
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await booted.close();
      await database.drop();
    }
  }, 120_000);

  it('GET /events answers 503 before any header when its subscription cannot be made; leaving the stream ends the subscription', async () => {
    const own = await startTestRedis();
    const booted = await bootApp({ ...own.env, REDIS_KEY_PREFIX: uniquePrefix('sse') }, { listen: true });
    const http = booted.app.getHttpServer();
    try {
      const cookie = await signUpAndLogin(booted.app, 'sse-outage');
      // Redis accepts no new connection: the pub/sub connection GET /events opens on first use cannot be made,
      // while the shared client (sessions) goes on working. Admin connections are opened before.
      const admins = own.servers.map((server) => server.client());
      const [, maxclients] = (await admins[0].config('GET', 'maxclients')) as string[];
      await Promise.all(admins.map((c) => c.config('SET', 'maxclients', '1')));
      try {
        const started = Date.now();
        const refused = await request(http).get('/events').set('Cookie', cookie).timeout({ response: 15_000 });
        expect(refused.status).toBe(503);
        expect(refused.body.message).toMatch(/redis/i);
        expect(refused.headers['content-type']).toMatch(/application\/json/);
        expect(Date.now() - started).toBeLessThan(12_000);
      } finally {
        await Promise.all(admins.map((c) => c.config('SET', 'maxclients', maxclients)));
        admins.forEach((c) => c.disconnect());
      }
      // Once Redis accepts connections again the stream opens, and closing it unsubscribes.
      await eventually(async () => (await request(http).get('/health/ready')).status === 200, 10_000, 'ready again');
      let sse: Awaited<ReturnType<typeof followEvents>> | undefined;
      await eventually(
        async () => {
          sse = await followEvents(booted.app, cookie).catch(() => undefined);
          return sse !== undefined;
        },
        15_000,
        'GET /events after the outage',
      );
      expect(await own.patternSubscriptions()).toBe(1);
      sse!.close();
      await eventually(
        async () => (await own.patternSubscriptions()) === 0,
        5_000,
        'PUNSUBSCRIBE after the client left',
      );
    } finally {
      await booted.close();
      await own.stop();
    }
  });
});
