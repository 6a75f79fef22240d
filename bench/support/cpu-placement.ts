/**
 * Where redis-server runs relative to the bench process (Linux, `taskset`). On a 2-core machine the scheduler moves
 * Redis between "on the bench's core" (they take turns) and "on the other core" (they work in parallel, and every
 * wake-up crosses cores) from one run, or one row, to the next, and the two placements favour opposite write
 * patterns: a row's ratio then swings by up to ±0.3 between runs of the same code. Fixing the placement makes the
 * rounds of a row agree within a few percent.
 *
 * - `split` (default where `taskset` works and there are at least 2 cores): the bench on core 0, redis-server on core
 *   1, as when Redis has a CPU (or a host) of its own.
 * - `shared`: both on core 0; one round trip is then CPU only (no idle core to wake), the lens for one-caller rows.
 * - `free`: the scheduler decides.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

/** A placement, see the file comment. */
export type CpuPlacement = 'split' | 'shared' | 'free';

/** Reads BENCH_CPU_PLACEMENT; unset: `split` where it can be applied, else `free`. */
export function cpuPlacementFromEnv(value: string | undefined = process.env.BENCH_CPU_PLACEMENT): CpuPlacement {
  if (value === undefined || value === '') return cpus().length >= 2 && tasksetWorks() ? 'split' : 'free';
  if (value === 'split' || value === 'shared' || value === 'free') return value;
  throw new Error(`BENCH_CPU_PLACEMENT: "${value}" is not split, shared or free`);
}

function tasksetWorks(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Sets the CPU affinity of every thread of `pid` (`taskset -a -p -c <cpus> <pid>`). */
function pin(pid: number, cpuList: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}

/**
 * Pins this process to core 0 and redis-server (`redisPid`) to core 1 (`split`) or core 0 (`shared`); nothing for
 * `free`. Returns what gives both every core back, and a line describing the placement for the report.
 */
export function placeCpus(placement: CpuPlacement, redisPid: number): { release: () => void; description: string } {
  if (placement === 'free') return { release: () => undefined, description: 'CPU placement free' };
  pin(process.pid, '0');
  pin(redisPid, placement === 'split' ? '1' : '0');
  const all = `0-${cpus().length - 1}`;
  return {
    release: () => {
      pin(process.pid, all);
      pin(redisPid, all);
    },
    description: `CPU placement ${placement}: bench on core 0, redis-server on core ${placement === 'split' ? 1 : 0}`,
  };
}
