/**
 * Redis frozen (SIGSTOP for 2 s, then SIGCONT) under load on two instances: no request waits much longer
 * than the command timeout (2000 ms), and nothing is corrupted (stock exact, sessions intact, orders confirmed).
 */
import request from 'supertest';
import { startRedis, type RedisServer } from '../support/redis-harness';
import { Load, report, reservedUnits, startFleet, unconfirmedOrders, unavailability, type Fleet } from './fault-load';
import { sleep } from '../../src/core/deadline';

const COMMAND_TIMEOUT_MS = 2_000;
/** Slack for the event loop, the database and the HTTP round trip on a busy 2-core machine. */
const MARGIN_MS = 1_500;

describe('fault: Redis frozen for 2 s (SIGSTOP) under load', () => {
  let server: RedisServer;
  let fleet: Fleet;
  beforeAll(async () => {
    server = await startRedis();
    fleet = await startFleet({
      REDIS_URL: server.url,
      // A lock whose release timed out during the freeze stays held until its lease ends, and requests for that
      // SKU wait LOCK_WAIT_MS before their 423: keep that configured wait below the command timeout, so the
      // bound asserted below is the command timeout's, and the lease short enough to end within the test.
      LOCK_WAIT_MS: '1000',
      LOCK_TTL_MS: '3000',
    });
  });
  afterAll(async () => {
    server?.resume();
    await fleet?.close();
    await server?.stop();
  });

  it('answers every request within command timeout + margin, and corrupts nothing', async () => {
    const load = new Load(fleet);
    load.start();
    await sleep(2_000);
    const frozenAt = load.now();
    server.pause();
    await sleep(2_000);
    server.resume();
    const resumedAt = load.now();
    await sleep(4_000);
    await load.stop();
    report(`Redis frozen ${frozenAt}..${resumedAt} ms (SIGSTOP 2 s)`, load.samples);

    // No request hung: each answered within the command timeout plus a margin.
    const slow = load.samples.filter((s) => s.end - s.start > COMMAND_TIMEOUT_MS + MARGIN_MS);
    expect(slow).toEqual([]);
    // Only 503 (Redis unavailable) or 423 (lock busy) besides success; never a 500 or a dropped connection.
    const bad = load.samples.filter((s) => ![200, 201, 503, 423].includes(s.status));
    expect(bad).toEqual([]);
    // Cached reads never failed: they fall through to the database when Redis does not answer.
    expect(unavailability(load.samples).cache.failed).toBe(0);
    // The rate-limited search never failed: the limit fails open after its 250 ms, the cache falls through.
    expect(unavailability(load.samples).search.failed).toBe(0);

    // Nothing corrupted: the stock is exact, sessions still valid, every accepted order gets confirmed.
    const stock = await request(fleet.urls[1]).get(`/inventory/${fleet.sku}`);
    expect(stock.body.stock).toBe(fleet.initialStock - reservedUnits(load.samples));
    for (const cookie of fleet.cookies) {
      expect((await request(fleet.urls[0]).get('/auth/me').set('Cookie', cookie)).status).toBe(200);
    }
    expect(await unconfirmedOrders(fleet, load.samples)).toEqual([]);
  });
});
