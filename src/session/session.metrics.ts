import { Injectable } from '@nestjs/common';
import {
  FeatureMetricsProvider,
  statsCounters,
  type FeatureMetric,
  type FeatureMetricsSource,
} from '../core/feature-metrics';
import { SessionAuthService } from './session-auth.service';

/**
 * The sessions' metrics: counters from {@link SessionAuthService.stats} and the `session_active` gauge (a SCAN of
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
        logouts: { help: 'Logouts' },
        revoked: { help: 'Sessions revoked through the per-user index' },
        errors: { name: 'store_errors_total', help: 'Redis errors of the session store' },
        resurrectionsPrevented: { help: 'Session writes refused because the session had been destroyed meanwhile' },
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
