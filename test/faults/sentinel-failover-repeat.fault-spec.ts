/**
 * Sentinel failover repeated under load: the master of a Sentinel group is killed (SIGKILL), the replica is
 * promoted, the killed node restarts empty and Sentinel makes it the new replica; again and again, while two
 * reference-service instances serve the mixed load of fault-load.ts. Counts the acknowledged orders lost with the
 * default durability (asynchronous replication: an order accepted just before a kill may not have reached the
 * replica) and prints one line per failover.
 *
 * Twice: with the default durability (ORDERS_DURABILITY=master), where losses are counted and bounded by the
 * orders accepted in the second before a kill, and with ORDERS_DURABILITY=replicated (XADD + WAIT), where none
 * may be lost. FAILOVER_REPEATS sets the number of failovers: 3 by default (the CI fault run; 2 for the
 * replicated run), 10 with FAULTS_FULL=1 (the full mode, `npm run test:faults:full`; 2 replicated). Sentinel does not fail the same master over again within twice its
 * failover timeout (5 s here), so each cycle lasts at least 10 s.
 */
import request from 'supertest';
import { startSentinelGroup, type SentinelGroupHandle } from '../support/redis-harness';
import {
  expectRecovered,
  Load,
  lostOrders,
  report,
  reservedUnits,
  sentinelEnv,
  startFleet,
  waitReplicaSynced,
  type Fleet,
} from './fault-load';
import { sleep } from '../../src/core/deadline';

/** Failovers of this run (FAILOVER_REPEATS, else 10 with FAULTS_FULL=1, else 3). */
function failoverRepeats(env: NodeJS.ProcessEnv = process.env): number {
  if (env.FAILOVER_REPEATS) return Math.max(1, Number(env.FAILOVER_REPEATS));
  return env.FAULTS_FULL === '1' ? 10 : 3;
}

describe.each([
  ['master', failoverRepeats()],
  ['replicated', Math.min(2, failoverRepeats())],
] as const)('fault: Sentinel failover repeated under load, ORDERS_DURABILITY=%s', (durability, repeats) => {
  let group: SentinelGroupHandle;
  let fleet: Fleet;
  beforeAll(async () => {
    group = await startSentinelGroup();
    fleet = await startFleet({
      ...sentinelEnv(group, { LOCK_TTL_MS: '3000', ORDERS_DURABILITY: durability }),
    });
  });
  afterAll(async () => {
    await fleet?.close();
    await group?.stop();
  });

  it(
    `fails over ${repeats} times: every feature recovers each time, lost acknowledged orders counted`,
    async () => {
      const load = new Load(fleet);
      load.start();
      await sleep(2_000);
      const kills: number[] = [];
      const lines: string[] = [];
      for (let round = 1; round <= repeats; round++) {
        const victim = await group.currentMaster();
        const killedAt = load.now();
        kills.push(killedAt);
        await victim.kill();
        await group.waitForFailover(victim);
        const promoted = load.now();
        // The killed node comes back empty once every sentinel names the new master; they make it its replica.
        await victim.start();
        await waitReplicaSynced(victim);
        // Twice the failover timeout since the last failover: Sentinel accepts the next one.
        const wait = Math.max(3_000, killedAt + 10_500 - load.now());
        await sleep(wait);
        lines.push(
          `  failover ${round}: killed :${victim.port} at ${killedAt} ms, promoted after ${promoted - killedAt} ms`,
        );
      }
      await sleep(3_000);
      await load.stop();
      report(`Sentinel failover ×${repeats}, ORDERS_DURABILITY=${durability}`, load.samples);
      process.stdout.write(`${lines.join('\n')}\n`);

      await expectRecovered(fleet, load);
      const stock = await request(fleet.urls[0]).get(`/inventory/${fleet.sku}`);
      expect(stock.body.stock).toBe(fleet.initialStock - reservedUnits(load.samples));

      const { lost, accepted, atRisk } = await lostOrders(fleet, load.samples, kills);
      process.stdout.write(
        `  acknowledged orders lost (${durability}): ${lost.length} of ${accepted}` +
          ` (accepted in the last second before a kill: ${atRisk})\n`,
      );
      // Only an order acknowledged just before a kill can be lost (it had not reached the replica); none when each
      // order waited for the replica.
      expect(lost.length).toBeLessThanOrEqual(durability === 'replicated' ? 0 : atRisk);
    },
    // each failover takes 10-21 s (Sentinel's spacing), then the checks
    Math.max(180_000, 60_000 + repeats * 25_000),
  );
});
