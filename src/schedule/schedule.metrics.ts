import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
  type MetricSample,
} from '../core/feature-metrics';
import { ScheduleService, type ScheduledJobState } from './schedule.service';

/**
 * The schedule's metrics, read at scrape time: `schedule_*_total` from {@link ScheduleService.stats} (this
 * instance's share: sum over instances for the cluster's), and per job (label `job`) the last run, the next tick and
 * the last run's duration as gauges.
 */
@FeatureMetricsProvider()
@Injectable()
export class ScheduleMetrics implements FeatureMetricsSource {
  constructor(private readonly schedule: ScheduleService) {}

  /** Counters of the stats (run time in seconds), and the per-job gauges (timestamps in seconds). */
  metrics(): FeatureMetric[] {
    const perJob = (read: (job: ScheduledJobState) => number | undefined, scale: number) => (): MetricSample[] =>
      this.schedule.jobs().flatMap((job) => {
        const value = read(job);
        return value === undefined ? [] : [{ labels: { job: job.name }, value: value * scale }];
      });
    return [
      ...statsCounters('schedule', () => this.schedule.stats, {
        runs: { help: 'Scheduled runs made by this instance (failed ones included)' },
        failures: { help: 'Scheduled runs that threw' },
        skipped: { help: 'Ticks skipped: a run was still going on (overlap skip), or Redis was unavailable' },
        unavailable: { help: 'Ticks not claimed because Redis was unavailable (never run unclaimed)' },
        runMs: { name: 'run_seconds_total', help: 'Time spent in scheduled runs, in seconds', scale: 0.001 },
      }),
      {
        name: 'schedule_last_run_timestamp_seconds',
        help: "Start of this instance's last run of the job (Unix time, seconds)",
        type: 'gauge',
        labelNames: ['job'],
        collect: perJob((j) => j.lastRunAt, 0.001),
      },
      {
        name: 'schedule_next_run_timestamp_seconds',
        help: 'Next tick of the job this instance will try to claim (Unix time, seconds)',
        type: 'gauge',
        labelNames: ['job'],
        collect: perJob((j) => j.nextRunAt, 0.001),
      },
      {
        name: 'schedule_last_duration_seconds',
        help: "Duration of this instance's last run of the job, in seconds",
        type: 'gauge',
        labelNames: ['job'],
        collect: perJob((j) => j.lastDurationMs, 0.001),
      },
    ];
  }
}
