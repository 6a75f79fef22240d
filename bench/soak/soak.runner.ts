/**
 * The soak: two reference-service API processes (stream consumers off) and a separate worker process (the
 * consumers), each a child `node` process, on one redis-server and one PostgreSQL database, under a steady mixed
 * load for `durationMs`: cached reads, login → protected reads → logout, orders (→ stream → worker), stock
 * reservations, SSE clients connecting and leaving. Every `sampleEveryMs` it samples each process's heap and RSS
 * right after a full garbage collection (heap-probe.cjs), its event-loop delay p99 (from its `/metrics`), Redis `used_memory`, the key count per feature prefix and the open
 * connections. After the warm-up, every series must grow by at most `maxGrowth` (median of the last quarter of
 * the samples against the first; key counts with a small allowance for keys in flight, see {@link SoakRow.ok}),
 * the event-loop delay p99 stay under `maxEventLoopDelayMs`, and no request get a 5xx.
 * Streams keep up to their MAXLEN by design, so Redis memory is judged without them (`usedMemoryBytes(-streams)`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, reapWithThisProcess, startRedis, uniquePrefix, type RedisServer } from '../../src/testing';
import { createTestDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../../test/support/test-database';
import { sleep } from '../../src/core/deadline';

const ROOT = join(__dirname, '..', '..');

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Length of the run, warm-up included (default 10 minutes). */
  durationMs?: number;
  /** Start of the measured part (default 20% of the run, at least 10 s). */
  warmupMs?: number;
  /** Sampling period (default 5 s). */
  sampleEveryMs?: number;
  /** Concurrent virtual users (default 6). */
  virtualUsers?: number;
  /** Pause of each virtual user between two rounds (default 50 ms). */
  pauseMs?: number;
  /** Largest allowed growth of each series over the measured part (default 0.05). */
  maxGrowth?: number;
  /** Largest allowed event-loop delay p99 (default 50 ms); `Infinity` to leave it out. */
  maxEventLoopDelayMs?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /**
   * Heap snapshots to take (diagnosis, see heap-diff.cjs): at each of these times (ms since the load started,
   * at the first sample at or after it), every API process writes `<snapshotDir>/<name>-<s>s.heapsnapshot`.
   */
  snapshotAtMs?: number[];
  /** Folder of the snapshots (required with `snapshotAtMs`). */
  snapshotDir?: string;
}

/** One sample of every series, by name (`api0.heapBytes`, `redis.usedMemoryBytes`, `keys.session`...). */
export interface SoakSample {
  /** ms since the load started. */
  atMs: number;
  values: Record<string, number>;
}

/** One line of the result table. */
export interface SoakRow {
  series: string;
  /** Median of the first quarter of the measured samples (heap and RSS are sampled right after a full GC). */
  start: number;
  /** Median of the last quarter. */
  end: number;
  max: number;
  /** (end - start) / max(start, 1). */
  growth: number;
  /**
   * `end ≤ start × (1 + maxGrowth)`; key counts may exceed that by 5 per virtual user (a session, its 3 index keys
   * and a lock exist only while a user is logged in or reserving: they come and go with the load).
   */
  ok: boolean;
}

/** What {@link runSoak} measured. */
export interface SoakResult {
  durationMs: number;
  warmupMs: number;
  /** The growth allowed (e.g. 0.05) and the event-loop delay bound, in ms, the verdict used. */
  maxGrowth: number;
  maxEventLoopDelayMs: number;
  requests: number;
  /** Requests by HTTP status (0: network error or timeout). */
  statuses: Record<number, number>;
  serverErrors: number;
  eventLoopDelayP99MaxMs: number;
  rows: SoakRow[];
  samples: SoakSample[];
  /** Why it failed (empty: passed). */
  failures: string[];
  pass: boolean;
}

/** Median of a list (0 when empty). */
function median(values: number[]): number {
  if (!values.length) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** One child process of the soak: an API instance or the worker, with its HTTP port. */
interface Service {
  name: string;
  port: number;
  child: ChildProcess;
}

async function startService(name: string, entry: string, env: Record<string, string>, port: number): Promise<Service> {
  const probe = join(__dirname, 'heap-probe.cjs');
  const register = join(ROOT, 'scripts', 'swc-register.cjs');
  const child = spawn(process.execPath, ['--expose-gc', '-r', probe, '-r', register, join(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  reapWithThisProcess(child.pid);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`http://127.0.0.1:${port}/health/ready`, { signal: AbortSignal.timeout(2_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return { name, port, child };
    if (Date.now() > deadline) throw new Error(`${name} not ready within 120 s: ${stderr}`);
    await sleep(250);
  }
}

async function stopService(s: Service): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => s.child.once('exit', () => r()));
  s.child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => s.child.kill('SIGKILL'))]);
}

/** Heap used and RSS of a service right after a full garbage collection (see heap-probe.cjs); NaN if it does not answer. */
function heapAfterGc(s: Service): Promise<{ heapUsedBytes: number; rssBytes: number }> {
  const none = { heapUsedBytes: NaN, rssBytes: NaN };
  if (!s.child.connected) return Promise.resolve(none);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(none), 5_000);
    const onMessage = (m: unknown): void => {
      const heap = (m as { soakHeap?: { heapUsedBytes: number; rssBytes: number } } | null)?.soakHeap;
      if (heap) done(heap);
    };
    const done = (v: { heapUsedBytes: number; rssBytes: number }): void => {
      clearTimeout(timer);
      s.child.off('message', onMessage);
      resolve(v);
    };
    s.child.on('message', onMessage);
    s.child.send('soak:heap');
  });
}

/** A full GC and a heap snapshot of a service written to `file` (see heap-probe.cjs); false if it does not answer. */
function snapshotAfterGc(s: Service, file: string): Promise<boolean> {
  if (!s.child.connected) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), 120_000);
    const onMessage = (m: unknown): void => {
      if ((m as { soakSnapshot?: string } | null)?.soakSnapshot === file) done(true);
    };
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.child.off('message', onMessage);
      resolve(ok);
    };
    s.child.on('message', onMessage);
    s.child.send({ soakSnapshot: file });
  });
}

/** `nrk_<name>` gauges of a Prometheus text page. */
function gauge(text: string, name: string): number {
  const m = new RegExp(`^nrk_${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** The mixed load, one loop per virtual user, counting statuses. */
class SoakLoad {
  readonly statuses: Record<number, number> = {};
  requests = 0;
  private running = true;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly urls: string[],
    private readonly users: Array<{ id: number; username: string; password: string }>,
    private readonly sku: string,
    private readonly pauseMs: number,
  ) {}

  start(): void {
    this.loops = this.users.map((_, i) => this.loop(i));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async call(url: string, init: RequestInit = {}, cookie?: string): Promise<Response | undefined> {
    this.requests++;
    try {
      const res = await fetch(url, {
        ...init,
        headers: {
          ...(cookie ? { cookie } : {}),
          ...(init.body ? { 'content-type': 'application/json' } : {}),
        },
        signal: init.signal ?? AbortSignal.timeout(15_000),
      });
      this.statuses[res.status] = (this.statuses[res.status] ?? 0) + 1;
      return res;
    } catch {
      this.statuses[0] = (this.statuses[0] ?? 0) + 1;
      return undefined;
    }
  }

  private async loop(u: number): Promise<void> {
    const user = this.users[u];
    for (let n = 0; this.running; n++) {
      const base = this.urls[(u + n) % this.urls.length];
      await (await this.call(`${base}/users/${this.users[n % this.users.length].id}`))?.text();
      const login = await this.call(`${base}/auth/login`, {
        method: 'POST',
        body: JSON.stringify({ username: user.username, password: user.password }),
      });
      const cookie = (login?.headers.getSetCookie() ?? []).map((c) => c.split(';')[0]).join('; ');
      await login?.text();
      if (!cookie) {
        await sleep(this.pauseMs);
        continue;
      }
      const other = this.urls[(u + n + 1) % this.urls.length];
      await (await this.call(`${other}/auth/me`, {}, cookie))?.text();
      await (
        await this.call(`${base}/orders`, { method: 'POST', body: JSON.stringify({ sku: 'soak', qty: 1 }) }, cookie)
      )?.text();
      await (
        await this.call(
          `${other}/inventory/${this.sku}/reserve`,
          { method: 'POST', body: JSON.stringify({ qty: 1 }) },
          cookie,
        )
      )?.text();
      if (n % 10 === 0) {
        // An SSE client that connects, waits for `ready`, and leaves.
        const sse = new AbortController();
        const res = await this.call(`${base}/events`, { signal: sse.signal }, cookie);
        if (res?.body) {
          const reader = res.body.getReader();
          await Promise.race([reader.read().catch(() => undefined), sleep(1_000)]);
        }
        sse.abort();
      }
      await (await this.call(`${other}/auth/logout`, { method: 'POST' }, cookie))?.text();
      await sleep(this.pauseMs);
    }
  }
}

/** Runs the soak (see the file header); stops every process it started, whatever happens. */
export async function runSoak(options: SoakOptions = {}): Promise<SoakResult> {
  const durationMs = options.durationMs ?? 600_000;
  const warmupMs = options.warmupMs ?? Math.max(10_000, Math.round(durationMs * 0.2));
  const sampleEveryMs = options.sampleEveryMs ?? 5_000;
  const maxGrowth = options.maxGrowth ?? 0.05;
  const maxEld = options.maxEventLoopDelayMs ?? 50;
  const log = options.log ?? (() => undefined);
  const cleanups: Array<() => Promise<void>> = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'nrk-soak-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  try {
    let pg: EmbeddedPostgres | undefined;
    if (!process.env.PG_ADMIN_URL && !process.env.DATABASE_URL) {
      pg = await startEmbeddedPostgres();
      process.env.PG_ADMIN_URL = pg.adminUrl;
      const started = pg;
      cleanups.push(async () => {
        delete process.env.PG_ADMIN_URL;
        await started.stop();
      });
    }
    const db = await createTestDatabase('soak');
    cleanups.push(() => db.drop());
    const redis: RedisServer = await startRedis();
    cleanups.push(() => redis.stop());
    const prefix = uniquePrefix('soak');
    const env = {
      REDIS_URL: redis.url,
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      REDIS_KEY_PREFIX: prefix,
      SESSION_SECRET: 'soak-session-secret-0123456789abcdef',
      LOG_LEVEL: 'error',
      RATE_LIMIT_PER_MINUTE: '1000000',
      LOGIN_RATE_LIMIT_PER_MINUTE: '1000000',
      // Reminders come due within the run: with the default 30 min the delayed set grows by design for the first
      // 30 minutes, which a soak would read as a leak.
      REMINDER_DELAY_MS: '2000',
    };
    const services: Service[] = [];
    cleanups.push(async () => {
      for (const s of services.reverse()) await stopService(s);
    });
    for (const i of [0, 1]) {
      const port = await freePort();
      log(`starting api${i} on :${port}`);
      services.push(
        await startService(
          `api${i}`,
          'src/app/main.ts',
          { ...env, PORT: String(port), MESSAGING_CONSUMERS: 'false' },
          port,
        ),
      );
    }
    const workerPort = await freePort();
    log(`starting worker on :${workerPort}`);
    services.push(
      await startService('worker', 'src/app/worker.ts', { ...env, WORKER_PORT: String(workerPort) }, workerPort),
    );
    const urls = services.filter((s) => s.name.startsWith('api')).map((s) => `http://127.0.0.1:${s.port}`);

    // Seed users and stock.
    const users: Array<{ id: number; username: string; password: string }> = [];
    for (let i = 0; i < (options.virtualUsers ?? 6); i++) {
      const username = `soak${i}`;
      const password = `soak-password-${i}`;
      const res = await fetch(`${urls[0]}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password, displayName: `Soak ${i}`, email: `soak${i}@example.com` }),
      });
      if (res.status !== 201) throw new Error(`seeding a user failed: ${res.status} ${await res.text()}`);
      users.push({ id: ((await res.json()) as { id: number }).id, username, password });
    }
    const sku = 'soak-sku';
    const stock = await fetch(`${urls[0]}/inventory`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, stock: 100_000_000 }),
    });
    if (stock.status !== 201) throw new Error(`seeding stock failed: ${stock.status} ${await stock.text()}`);

    const admin = redis.client();
    cleanups.push(async () => admin.disconnect());
    const sampleOnce = async (atMs: number): Promise<SoakSample> => {
      const values: Record<string, number> = {};
      for (const s of services) {
        const text = await fetch(`http://127.0.0.1:${s.port}/metrics`, { signal: AbortSignal.timeout(5_000) })
          .then((r) => r.text())
          .catch(() => '');
        const heap = await heapAfterGc(s);
        values[`${s.name}.heapBytes`] = heap.heapUsedBytes;
        values[`${s.name}.rssBytes`] = heap.rssBytes;
        values[`${s.name}.eldP99Ms`] = gauge(text, 'nodejs_eventloop_lag_p99_seconds') * 1000;
      }
      const memory = await admin.info('memory');
      values['redis.usedMemoryBytes'] = Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? NaN);
      const clients = await admin.info('clients');
      values['redis.connections'] = Number(/connected_clients:(\d+)/.exec(clients)?.[1] ?? NaN);
      const counts: Record<string, number> = {};
      let streamBytes = 0;
      let cursor = '0';
      do {
        const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const feature = key.slice(prefix.length).split(':')[0] || '(root)';
          counts[feature] = (counts[feature] ?? 0) + 1;
          if ((await admin.type(key)) === 'stream') streamBytes += Number(await admin.memory('USAGE', key)) || 0;
        }
      } while (cursor !== '0');
      for (const [feature, n] of Object.entries(counts)) values[`keys.${feature}`] = n;
      // Streams keep up to their MAXLEN by design (retention, not a leak): counted apart.
      values['redis.usedMemoryBytes(-streams)'] = values['redis.usedMemoryBytes'] - streamBytes;
      return { atMs, values };
    };

    const load = new SoakLoad(urls, users, sku, options.pauseMs ?? 50);
    const t0 = Date.now();
    load.start();
    const samples: SoakSample[] = [];
    const snapshotsDue = [...(options.snapshotAtMs ?? [])].sort((a, b) => a - b);
    // Samples at whole periods only: a sample taken right after another would read an event-loop delay
    // histogram of a few milliseconds, dominated by the full GC the previous sample forced.
    for (let dueMs = sampleEveryMs; dueMs <= durationMs; dueMs += sampleEveryMs) {
      await sleep(Math.max(0, dueMs - (Date.now() - t0)));
      const sample = await sampleOnce(Date.now() - t0);
      samples.push(sample);
      log(
        `${String(Math.round(sample.atMs / 1000)).padStart(5)} s  requests ${load.requests}  ` +
          `heap ${services.map((s) => Math.round(sample.values[`${s.name}.heapBytes`] / 1e6)).join('/')} MB  ` +
          `redis ${Math.round(sample.values['redis.usedMemoryBytes'] / 1e3)} kB  ` +
          `conns ${sample.values['redis.connections']}`,
      );
      while (snapshotsDue.length && sample.atMs >= snapshotsDue[0] && options.snapshotDir) {
        snapshotsDue.shift();
        for (const s of services.filter((x) => x.name.startsWith('api'))) {
          const file = join(options.snapshotDir, `${s.name}-${Math.round(sample.atMs / 1000)}s.heapsnapshot`);
          log(`snapshot ${file}: ${(await snapshotAfterGc(s, file)) ? 'written' : 'FAILED'}`);
        }
      }
    }
    await load.stop();
    return evaluate(samples, load, { durationMs, warmupMs, maxGrowth, maxEld, virtualUsers: users.length });
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

/** Table and verdict from the samples (growth over the measured part, ELD, 5xx). */
function evaluate(
  samples: SoakSample[],
  load: SoakLoad,
  o: { durationMs: number; warmupMs: number; maxGrowth: number; maxEld: number; virtualUsers: number },
): SoakResult {
  // Keys that exist only while a user is logged in or holds a lock (a session, its 3 index keys, a lock key)
  // come and go with the load: a key count may exceed its start by that many without growing.
  const inFlightKeys = 5 * o.virtualUsers;
  const measured = samples.filter((s) => s.atMs >= o.warmupMs);
  const quarter = Math.max(1, Math.floor(measured.length / 4));
  const names = [...new Set(measured.flatMap((s) => Object.keys(s.values)))].sort();
  const failures: string[] = [];
  const rows: SoakRow[] = [];
  let eldMax = 0;
  for (const series of names) {
    const values = measured.map((s) => s.values[series] ?? 0);
    if (series.endsWith('.eldP99Ms')) {
      eldMax = Math.max(eldMax, ...values.filter((v) => Number.isFinite(v)));
      continue;
    }
    if (series === 'redis.usedMemoryBytes') continue; // reported through its stream-free variant
    const start = median(values.slice(0, quarter));
    const end = median(values.slice(-quarter));
    const growth = (end - start) / Math.max(start, 1);
    const slack = series.startsWith('keys.') ? inFlightKeys : 0;
    const ok = end <= start * (1 + o.maxGrowth) + slack;
    if (!ok) failures.push(`${series} grew ${(growth * 100).toFixed(1)}% (${start} → ${end})`);
    rows.push({ series, start, end, max: Math.max(...values), growth, ok });
  }
  if (eldMax >= o.maxEld) failures.push(`event-loop delay p99 reached ${eldMax.toFixed(1)} ms`);
  const serverErrors = Object.entries(load.statuses)
    .filter(([s]) => Number(s) >= 500 || Number(s) === 0)
    .reduce((n, [, c]) => n + c, 0);
  if (serverErrors) failures.push(`${serverErrors} requests answered 5xx or failed`);
  if (!measured.length) failures.push('no sample after the warm-up');
  return {
    durationMs: o.durationMs,
    warmupMs: o.warmupMs,
    maxGrowth: o.maxGrowth,
    maxEventLoopDelayMs: o.maxEld,
    requests: load.requests,
    statuses: load.statuses,
    serverErrors,
    eventLoopDelayP99MaxMs: eldMax,
    rows,
    samples,
    failures,
    pass: failures.length === 0,
  };
}

/** The result as a fixed-width table (one line per series, then requests, ELD and the verdict). */
export function soakTable(r: SoakResult): string {
  const fmt = (series: string, v: number) =>
    series.includes('Bytes') ? `${(v / 1e6).toFixed(2)} MB` : String(Math.round(v * 10) / 10);
  const lines = [
    `${'series'.padEnd(34)} ${'start'.padStart(11)} ${'end'.padStart(11)} ${'max'.padStart(11)} ${'growth'.padStart(8)}`,
    ...r.rows.map(
      (row) =>
        `${row.series.padEnd(34)} ${fmt(row.series, row.start).padStart(11)} ${fmt(row.series, row.end).padStart(11)} ` +
        `${fmt(row.series, row.max).padStart(11)} ${`${(row.growth * 100).toFixed(1)}%`.padStart(8)}${row.ok ? '' : '  ✗'}`,
    ),
    `requests ${r.requests} in ${Math.round(r.durationMs / 1000)} s (warm-up ${Math.round(r.warmupMs / 1000)} s), ` +
      `statuses ${JSON.stringify(r.statuses)}`,
    `event-loop delay p99, worst sample: ${r.eventLoopDelayP99MaxMs.toFixed(1)} ms`,
    `verdict at growth ≤ ${r.maxGrowth * 100}%, event-loop delay p99 < ${r.maxEventLoopDelayMs} ms, no 5xx: ` +
      (r.pass ? 'PASS' : `FAIL: ${r.failures.join('; ')}`),
  ];
  return lines.join('\n');
}
