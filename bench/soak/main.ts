/**
 * `npm run soak`: the soak of soak.runner.ts (two API processes and a worker under steady mixed load), for
 * SOAK_DURATION_MS (default 10 minutes; SOAK_WARMUP_MS, SOAK_SAMPLE_MS tune it). Prints a table, writes
 * soak-results.json (not committed) and exits 1 when a series grew more than 5% after the warm-up, the
 * event-loop delay p99 reached 50 ms, or a request got a 5xx. Not part of CI.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSoak, soakTable } from './soak.runner';

const num = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);

async function main(): Promise<void> {
  const result = await runSoak({
    durationMs: num('SOAK_DURATION_MS'),
    warmupMs: num('SOAK_WARMUP_MS'),
    sampleEveryMs: num('SOAK_SAMPLE_MS'),
    log: (line) => process.stdout.write(`${line}\n`),
    // Diagnosis: SOAK_SNAPSHOT_AT_MS=60000,240000 SOAK_SNAPSHOT_DIR=/tmp/x writes heap snapshots of the API processes.
    snapshotAtMs: process.env.SOAK_SNAPSHOT_AT_MS?.split(',').map(Number),
    snapshotDir: process.env.SOAK_SNAPSHOT_DIR,
  });
  process.stdout.write(`\n${soakTable(result)}\n`);
  const file = join(__dirname, '..', '..', 'soak-results.json');
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`results: ${file}\n`);
  process.exit(result.pass ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`soak failed to run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
