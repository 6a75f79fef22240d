/**
 * The start command itself: the built service (`node dist/app/main.js`, what `npm start` runs after
 * `nest build`) with no REDIS_URL / DATABASE_URL starts a private redis-server and PGlite, answers /health,
 * and leaves no redis-server behind however it stops (SIGTERM, SIGTERM under load, SIGKILL, a startup error).
 * Built fresh into .tmp/ with tsc so the test never runs a stale dist/.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../support/redis-harness';
import { alive } from '../support/processes';
import { sleep } from '../../src/core/deadline';

const ROOT = resolve(__dirname, '../..');
const OUT = join(ROOT, '.tmp', `start-e2e-${process.pid}`);
const MAIN = join(OUT, 'app', 'main.js');

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return true;
    await sleep(100);
  }
  return cond();
}

/** One run of the built service. */
interface Service {
  child: ChildProcess;
  port: number;
  /** stdout + stderr so far. */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** pid of the private redis-server, from the startup log line. */
  redisPid(): number | undefined;
}

/** Starts the built service in a fresh cwd with only PATH/HOME (plus `env`) in its environment. */
async function runService(env: Record<string, string> = {}): Promise<Service> {
  const cwd = mkdtempSync(join(tmpdir(), 'nrk-start-'));
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? cwd, PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => {
      rmSync(cwd, { recursive: true, force: true });
      res({ code, signal });
    }),
  );
  return {
    child,
    port,
    output: () => out,
    exited,
    redisPid: () => {
      const m = /private redis-server \S+ at redis:\/\/127\.0\.0\.1:\d+ \(pid (\d+)/.exec(out);
      return m ? Number(m[1]) : undefined;
    },
  };
}

async function healthStatus(port: number): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

/** Starts the service and waits for /health 200 (PGlite's first start takes a few seconds). */
async function startHealthy(): Promise<Service> {
  const svc = await runService();
  const up = await waitFor(async () => svc.child.exitCode === null && (await healthStatus(svc.port)) === 200, 90_000);
  if (!up) {
    svc.child.kill('SIGKILL');
    throw new Error(`service did not become healthy:\n${svc.output()}`);
  }
  return svc;
}

describe('the start command (built service, no REDIS_URL)', () => {
  beforeAll(async () => {
    // tsc still emits when another feature's file has a type error; lint/typecheck report those.
    await new Promise<void>((res) =>
      execFile(
        process.execPath,
        [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', OUT, '--declaration', 'false'],
        { cwd: ROOT },
        () => res(),
      ),
    );
    if (!existsSync(MAIN)) throw new Error(`build failed: ${MAIN} missing`);
  }, 180_000);
  afterAll(() => rmSync(OUT, { recursive: true, force: true }));

  it('starts a private redis-server and PGlite, answers /health 200, and SIGTERM stops both', async () => {
    const svc = await startHealthy();
    const redisPid = svc.redisPid();
    expect(redisPid).toBeDefined();
    expect(alive(redisPid!)).toBe(true);
    expect(svc.output()).toMatch(/Database: pglite at pglite:\/.*\.data/);
    const users = await fetch(`http://127.0.0.1:${svc.port}/users/1`);
    expect(await users.json()).toMatchObject({ username: 'demo' });

    svc.child.kill('SIGTERM');
    const { code } = await svc.exited;
    expect(code).toBe(0);
    expect(await waitFor(() => !alive(redisPid!), 5000)).toBe(true);
  }, 120_000);

  it('SIGTERM under light load ends cleanly: exit 0, no unhandled rejection, no error lines', async () => {
    const svc = await startHealthy();
    const redisPid = svc.redisPid()!;
    let stop = false;
    let answered = 0;
    const callers = Array.from({ length: 10 }, async (_, i) => {
      while (!stop) {
        const path = i % 2 ? '/health' : '/users/1';
        try {
          const res = await fetch(`http://127.0.0.1:${svc.port}${path}`, { signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          answered++;
        } catch {
          await sleep(20); // refused / reset once the server closes: expected
        }
      }
    });
    await sleep(1500);
    svc.child.kill('SIGTERM');
    const { code } = await svc.exited;
    stop = true;
    await Promise.all(callers);
    expect(answered).toBeGreaterThan(10);
    expect(code).toBe(0);
    const out = svc.output();
    expect(out).not.toMatch(/unhandled|UnhandledPromiseRejection|uncaught/i);
    // Nest's text logger prints ` ERROR `, pino JSON lines carry "level":50 (error) or 60 (fatal).
    expect(out).not.toMatch(/ ERROR |"level":(50|60)/);
    expect(await waitFor(() => !alive(redisPid), 5000)).toBe(true);
  }, 120_000);

  it('SIGKILL of the service: the detached reaper still stops its redis-server', async () => {
    const svc = await startHealthy();
    const redisPid = svc.redisPid()!;
    svc.child.kill('SIGKILL');
    await svc.exited;
    expect(await waitFor(() => !alive(redisPid), 8000)).toBe(true);
  }, 120_000);

  it('a startup error (bad PORT) exits 1 naming the variable, and stops the redis-server', async () => {
    const svc = await runService({ PORT: 'eighty' });
    const { code } = await svc.exited;
    expect(code).toBe(1);
    expect(svc.output()).toMatch(/PORT/);
    const redisPid = svc.redisPid();
    expect(redisPid).toBeDefined();
    expect(await waitFor(() => !alive(redisPid!), 5000)).toBe(true);
  }, 60_000);

  it('bad REDIS_URL and DATABASE_URL: exit 1 naming both variables', async () => {
    const svc = await runService({ REDIS_URL: 'http://127.0.0.1:6379', DATABASE_URL: 'mysql://x@y/z' });
    const { code } = await svc.exited;
    expect(code).toBe(1);
    expect(svc.output()).toMatch(/REDIS_URL must look like redis:\/\//);
    expect(svc.output()).toMatch(/DATABASE_URL must look like postgres/);
    expect(svc.redisPid()).toBeUndefined(); // REDIS_URL given: no private redis-server
  }, 60_000);

  it('without REDIS_URL and without redis-server on PATH: exit 1 with one line saying how to get one', async () => {
    const emptyBin = mkdtempSync(join(tmpdir(), 'nrk-nobin-'));
    try {
      const svc = await runService({ PATH: emptyBin });
      const { code } = await svc.exited;
      expect(code).toBe(1);
      const lines = svc.output().trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/REDIS_URL/);
      expect(lines[0]).toMatch(/redis-server/);
      expect(lines[0]).toMatch(/docker compose up -d redis/);
    } finally {
      rmSync(emptyBin, { recursive: true, force: true });
    }
  }, 30_000);
});
