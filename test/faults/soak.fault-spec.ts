/**
 * A short soak (bench/soak/soak.runner.ts): two API processes and a separate worker under steady mixed load for
 * SOAK_DURATION_MS (default 60 s here; `npm run soak` runs 10 minutes). Asserts growth and errors only, with
 * bounds suited to a minute on a busy machine: no 5xx or failed request; Redis keys per feature (allowing for the
 * keys of requests in flight), memory without the streams and open connections grow at most 5%. Node heap and RSS
 * (after a full GC) only may not double: in the first minutes code is still being compiled and caches filled, so
 * only `npm run soak` judges them at 5%. The event-loop delay is printed, not asserted (a speed figure).
 */
import { runSoak, soakTable } from '../../bench/soak/soak.runner';

describe('fault: soak (one minute)', () => {
  it('holds steady: no 5xx, no growth of keys, connections or memory after the warm-up', async () => {
    const durationMs = Number(process.env.SOAK_DURATION_MS ?? 60_000);
    const result = await runSoak({
      durationMs,
      warmupMs: Math.round(durationMs / 4),
      sampleEveryMs: 2_000,
      maxGrowth: 0.05,
      maxEventLoopDelayMs: Infinity,
    });
    process.stdout.write(`\n[faults] soak ${Math.round(durationMs / 1000)} s\n${soakTable(result)}\n`);
    expect(result.serverErrors).toBe(0);
    expect(result.requests).toBeGreaterThan(0);
    const tooMuch = result.rows.filter((row) => {
      const process = /^(api\d|worker)\.(heap|rss)Bytes$/.test(row.series);
      return process ? row.growth > 1 : !row.ok;
    });
    expect(tooMuch).toEqual([]);
  }, 300_000);
});
