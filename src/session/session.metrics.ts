import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../core/feature-metrics';
import { SessionAuthService } from './session-auth.service';

/**
 * The sessions' metrics: counters from {@link SessionAuthService.stats} (logins, evictions and refusals of the
 * per-user limit, absolute expiries, store errors...) and the `session_active` gauge (a SCAN of
 * the session keys at scrape time, every master on a Cluster).
 */
@FeatureMetricsProvider()
@Injectable()
export class SessionMetrics implements FeatureMetricsSource {
  constructor(private readonly sessions: SessionAuthService) {}

  /** The counters and the active-session gauge. */
  metrics(): FeatureMetric[] {
    return [
      ...statsCounters('session', () => this.sessions.stats, {
        logins: { help: 'Successful logins' },
        loginFailures: { help: 'Logins refused for a wrong username or password' },
        throttled: { name: 'logins_throttled_total', help: 'Logins refused by throttling (429)' },
        unthrottled: {
          name: 'logins_unthrottled_total',
          help: 'Logins let through without the failed-login throttle because Redis could not decide (loginFailOpen)',
        },
        logouts: { help: 'Logouts' },
        revoked: { help: 'Sessions revoked through the per-user index' },
        errors: { name: 'store_errors_total', help: 'Redis errors of the session store' },
        resurrectionsPrevented: { help: 'Session writes refused because the session had been destroyed meanwhile' },
        evicted: { name: 'evictions_total', help: 'Sessions ended to make room for a newer one of their user' },
        refused: {
          name: 'logins_refused_total',
          help: 'Logins refused because their user held maxSessionsPerUser sessions (409)',
        },
        absoluteExpiries: { help: 'Sessions ended by their absolute lifetime (absoluteTimeoutMs)' },
      }),
      {
        name: 'session_active',
        help: 'Sessions stored in Redis now (SCAN at scrape time)',
        type: 'gauge',
        collect: () => this.sessions.countActiveSessions(),
      },
    ];
  }
}
