import { Test } from '@nestjs/testing';
import {
  RedisHealthIndicator,
  RedisModule,
  RedisService,
  RedisUnavailableError,
  type RedisModuleOptions,
} from '../src/redis';
import { startRedis, uniquePrefix, type RedisServer } from './support/redis-harness';
import { makeTlsFiles, type TestTlsMaterial } from './support/tls-certs';

async function boot(options: RedisModuleOptions) {
  const ref = await Test.createTestingModule({ imports: [RedisModule.forRoot(options)] }).compile();
  await ref.init();
  return ref;
}

/** Boots RedisModule and returns the startup error (or fails when startup succeeds). */
async function startupError(options: RedisModuleOptions): Promise<Error> {
  try {
    const ref = await boot(options);
    await ref.close();
  } catch (err) {
    return err as Error;
  }
  throw new Error('startup succeeded but was expected to fail');
}

describe('RedisModule over TLS (certificates made at test time with openssl)', () => {
  let tls: TestTlsMaterial;
  let server: RedisServer;
  beforeAll(async () => {
    tls = makeTlsFiles();
    server = await startRedis({ tls: tls.files });
  });
  afterAll(async () => {
    await server?.stop();
    tls?.cleanup();
  });

  it('connects with a rediss:// url and the CA, for shared and dedicated connections', async () => {
    expect(server.url).toMatch(/^rediss:\/\//);
    const prefix = uniquePrefix('tls');
    const ref = await boot({ url: server.url, tls: { ca: tls.ca }, keyPrefix: prefix });
    const redis = ref.get(RedisService);
    const client = redis.getClient();
    await client.set(`${prefix}k`, 'v');
    expect(await client.get(`${prefix}k`)).toBe('v');
    // A dedicated connection (subscriber) inherits the TLS options of its parent.
    const sub = redis.duplicate('default', 'subscriber');
    const got = new Promise<string>((resolve) => sub.on('message', (_channel: string, msg: string) => resolve(msg)));
    await sub.subscribe(`${prefix}ch`);
    await client.publish(`${prefix}ch`, 'hello');
    expect(await got).toBe('hello');
    const health = await ref.get(RedisHealthIndicator).isHealthy();
    expect(health.redis.status).toBe('up');
    await client.del(`${prefix}k`);
    await ref.close();
  });

  it('connects with host/port and tls options (no url)', async () => {
    const ref = await boot({ host: '127.0.0.1', port: server.port, tls: { ca: tls.ca } });
    expect(await ref.get(RedisService).getClient().ping()).toBe('PONG');
    await ref.close();
  });

  it('refuses a server whose certificate is not signed by the given CA, with a clear startup error', async () => {
    const started = Date.now();
    const err = await startupError({ url: server.url, tls: { ca: tls.wrongCa }, readyTimeoutMs: 5_000 });
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(err.message).toContain(`rediss://127.0.0.1:${server.port}`);
    expect(err.message).toMatch(/TLS certificate refused \(.*certificate.*\)/i);
    // A certificate error is permanent: startup does not wait for the ready timeout.
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('refuses a certificate that does not name the host it connects to', async () => {
    // The certificate names 127.0.0.1 and localhost, not this name.
    const err = await startupError({
      url: server.url,
      tls: { ca: tls.ca, servername: 'redis.example.com' },
      readyTimeoutMs: 5_000,
    });
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(err.message).toMatch(/altnames/i);
  });

  it('fails clearly when a plain redis:// url points at the TLS port', async () => {
    const err = await startupError({ url: `redis://127.0.0.1:${server.port}`, readyTimeoutMs: 1_500 });
    expect(err).toBeInstanceOf(RedisUnavailableError);
    expect(err.message).toContain(`redis://127.0.0.1:${server.port}`);
    expect(err.message).toContain('within 1500 ms');
  });
});
