import type { SessionAuthService, SessionStats } from './session-auth.service';
import { SessionMetrics } from './session.metrics';

describe('SessionMetrics', () => {
  it('exports the session counters and the session_active gauge', async () => {
    const stats: SessionStats = {
      logins: 2,
      loginFailures: 1,
      throttled: 0,
      unthrottled: 4,
      logouts: 1,
      revoked: 0,
      evicted: 3,
      refused: 1,
      errors: 5,
    };
    const service = { stats, countActiveSessions: () => Promise.resolve(7) } as unknown as SessionAuthService;
    const metrics = new SessionMetrics(service).metrics();
    expect(metrics.map((m) => [m.name, m.type])).toEqual([
      ['session_logins_total', 'counter'],
      ['session_login_failures_total', 'counter'],
      ['session_logins_throttled_total', 'counter'],
      ['session_logins_unthrottled_total', 'counter'],
      ['session_logouts_total', 'counter'],
      ['session_revoked_total', 'counter'],
      ['session_store_errors_total', 'counter'],
      ['session_resurrections_prevented_total', 'counter'],
      ['session_evictions_total', 'counter'],
      ['session_logins_refused_total', 'counter'],
      ['session_absolute_expiries_total', 'counter'],
      ['session_active', 'gauge'],
    ]);
    const read = (name: string) => metrics.find((m) => m.name === name)!.collect();
    expect(await read('session_store_errors_total')).toBe(5);
    expect(await read('session_resurrections_prevented_total')).toBeUndefined(); // another store: no sample
    expect(await read('session_evictions_total')).toBe(3);
    expect(await read('session_logins_unthrottled_total')).toBe(4);
    expect(await read('session_logins_refused_total')).toBe(1);
    expect(await read('session_active')).toBe(7);
  });
});
