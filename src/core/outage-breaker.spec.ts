import { sleep } from './deadline';
import { OutageBreaker } from './outage-breaker';

function breaker(probeIntervalMs = 30) {
  const lines: string[] = [];
  const b = new OutageBreaker({
    subject: 'the cache',
    fallback: 'reads fall through to the source',
    probeIntervalMs,
    logger: { warn: (m) => lines.push(`warn ${m}`), log: (m) => lines.push(`log ${m}`) },
  });
  return { b, lines };
}

describe('OutageBreaker', () => {
  it('lets every call through while healthy', () => {
    const { b } = breaker();
    expect(b.allow({ status: 'ready' })).toBe(true);
    expect(b.allow()).toBe(true);
    expect(b.failing).toBe(false);
  });

  it('logs one line when an outage begins and one when it ends, whatever the number of failures', () => {
    const { b, lines } = breaker();
    b.failure(new Error('ECONNREFUSED'));
    b.failure(new Error('ECONNREFUSED'));
    b.failure(new Error('timeout'));
    expect(b.failing).toBe(true);
    expect(b.failingSince).toBeDefined();
    b.success();
    b.success();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^warn Redis unavailable for the cache \(ECONNREFUSED\): reads fall through/);
    expect(lines[1]).toMatch(/^log Redis is back for the cache after \d+ ms/);
    expect(b.stats).toEqual({ errors: 3, outages: 1, skipped: 0 });
  });

  it('while failing, lets one probe through per interval and counts the others as skipped', async () => {
    const { b } = breaker(30);
    b.failure(new Error('down'));
    expect(b.allow({ status: 'ready' })).toBe(false);
    expect(b.allow({ status: 'ready' })).toBe(false);
    await sleep(40);
    expect(b.allow({ status: 'ready' })).toBe(true);
    expect(b.allow({ status: 'ready' })).toBe(false);
    expect(b.stats.skipped).toBe(3);
  });

  it('refuses calls while the client is not connected, beginning an outage', () => {
    const { b, lines } = breaker();
    expect(b.allow({ status: 'reconnecting' })).toBe(false);
    expect(b.failing).toBe(true);
    expect(lines[0]).toMatch(/connection is reconnecting/);
    expect(b.stats).toEqual({ errors: 1, outages: 1, skipped: 1 });
  });

  it('probes at once on the first call after the client reconnected, whatever the interval', () => {
    const { b } = breaker(60_000);
    expect(b.allow({ status: 'reconnecting' })).toBe(false);
    expect(b.allow({ status: 'ready' })).toBe(true);
    expect(b.allow({ status: 'ready' })).toBe(false);
    b.success();
    expect(b.allow({ status: 'ready' })).toBe(true);
  });
});
