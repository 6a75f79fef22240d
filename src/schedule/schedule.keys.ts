/**
 * Every Redis key the schedule writes, under `<prefix>schedule:` (`prefix` is RedisModule's key prefix). All keys of
 * one job carry the job's name as hash tag, so the claim script (which touches several) runs on a Cluster:
 * - `<prefix>schedule:{<job>}:last`: the last tick claimed (epoch ms), kept: claims only go forward, and the
 *   missed-tick policy reads it at startup;
 * - `<prefix>schedule:{<job>}:tick:<tick ms>`: who claimed that tick (the claiming instance's id), kept for twice the
 *   job's period (at least a minute, at most a day);
 * - `<prefix>schedule:{<job>}:run`: the lease of the run in progress (any instance), renewed while it runs;
 * - `<prefix>schedule:{<job>}:queued`: the one tick waiting for that run to end (`overlap: 'wait'`).
 */
export class ScheduleKeys {
  /** @param prefix the feature's prefix, `<RedisModule keyPrefix>schedule:` */
  constructor(readonly prefix: string) {}

  /** The last tick claimed for `job`. */
  last(job: string): string {
    return `${this.prefix}{${job}}:last`;
  }

  /** The claim of one tick of `job`. */
  tick(job: string, tickMs: number): string {
    return `${this.prefix}{${job}}:tick:${tickMs}`;
  }

  /** The lease of the run of `job` in progress. */
  run(job: string): string {
    return `${this.prefix}{${job}}:run`;
  }

  /** The tick of `job` queued behind the run in progress. */
  queued(job: string): string {
    return `${this.prefix}{${job}}:queued`;
  }
}
