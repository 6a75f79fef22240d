import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../index';

/** Printed (as one line) when there is neither `REDIS_URL` nor a `redis-server` binary. */
export const NO_REDIS_MESSAGE =
  'No Redis: set REDIS_URL (e.g. `docker compose up -d redis` then REDIS_URL=redis://127.0.0.1:6379), ' +
  'or install redis-server (apt-get install redis-server / brew install redis) so `npm start` can run a private one.';

/** Thrown by {@link startEmbeddedRedis} when `redis-server` is not on PATH. */
export class RedisServerNotFoundError extends Error {
  constructor() {
    super(NO_REDIS_MESSAGE);
    this.name = 'RedisServerNotFoundError';
  }
}

/** A private `redis-server` process owned by the service. */
export interface EmbeddedRedis {
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Port it listens on (127.0.0.1 only). */
  port: number;
  /** OS process id of the redis-server. */
  pid: number;
  /** Version string reported by `redis-server --version`. */
  version: string;
  /** Its temp working directory (removed on stop). */
  dir: string;
  /** Stops the process (SIGTERM) and removes the temp dir; synchronous, safe to call twice. */
  stop(): void;
}

/** A free TCP port on 127.0.0.1, asked from the OS. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket; true when `+PONG` comes back within `timeoutMs`. */
function ping(port: number, timeoutMs = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}

/** `redis-server --version`, or undefined when the binary is missing. */
export function redisServerVersion(bin = 'redis-server'): string | undefined {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  return /v=(\S+)/.exec(r.stdout)?.[1] ?? r.stdout.trim();
}

/**
 * Detached shell that outlives this process: once our pid is gone (however it died, SIGKILL included) it
 * stops the redis-server and removes its directory.
 */
function spawnReaper(redisPid: number, dir: string): void {
  const script =
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    `kill ${redisPid} 2>/dev/null; sleep 1; kill -9 ${redisPid} 2>/dev/null; rm -rf '${dir}'`;
  const reaper = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  reaper.on('error', () => undefined);
  reaper.unref();
}

async function startOnce(bin: string, version: string): Promise<EmbeddedRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nrk-app-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child: ChildProcess = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer) => {
    if (output.length < 4000) output += d.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  if (!child.pid) {
    stop();
    throw new Error(`could not start ${bin}`);
  }
  spawnReaper(child.pid, dir);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      stop();
      throw new Error(`redis-server on port ${port} exited at startup: ${output.trim().split('\n').pop() ?? ''}`);
    }
    if (await ping(port)) {
      // Its log is only useful at startup; keep draining so the pipe never blocks it.
      child.stdout?.removeListener('data', collect);
      child.stderr?.removeListener('data', collect);
      child.stdout?.resume();
      child.stderr?.resume();
      child.unref();
      return { url: `redis://127.0.0.1:${port}`, port, pid: child.pid, version, dir, stop };
    }
    await sleep(25);
  }
  stop();
  throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
}

/**
 * Starts a private `redis-server` on a free 127.0.0.1 port, in a temp dir, without persistence (no RDB,
 * no AOF). It is stopped when this process exits (normal exit, `process.exit`, an uncaught error) and, by a
 * detached reaper, even when this process is killed with SIGKILL.
 * @throws RedisServerNotFoundError when `redis-server` is not on PATH.
 */
export async function startEmbeddedRedis(bin = 'redis-server'): Promise<EmbeddedRedis> {
  const version = redisServerVersion(bin);
  if (!version) throw new RedisServerNotFoundError();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const redis = await startOnce(bin, version);
      process.once('exit', redis.stop);
      return redis;
    } catch (err) {
      lastError = err; // most likely the free port was taken in between: try another
    }
  }
  throw lastError;
}

/** The URL with its password replaced by `***`, for logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}
