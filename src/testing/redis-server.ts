import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { freePort } from './free-port';
import { reapWithThisProcess, releaseFromReaper, removeWithThisProcess } from './process-reaper';
import { RedisServerNotFoundError } from './testing.errors';
import { eachServer, restartServers, scanMasters } from './topology.helpers';
import type { RedisRestartOptions, RedisTopology, RedisTopologyConnection } from './redis-topology.types';
import { sleep } from '../core/deadline';

/** How long a starting server has to answer PING, in milliseconds. */
const START_TIMEOUT_MS = 10_000;
/** How much of a server's output is kept for the error message of a failed start, in characters. */
const OUTPUT_KEPT_CHARS = 8_000;

/** Certificate files of a TLS server (PEM paths). */
export interface RedisServerTlsFiles {
  /** Server certificate. */
  certFile: string;
  /** Server private key. */
  keyFile: string;
  /** CA certificate (trusted by `client()`, and put in `connection.tls`). */
  caFile: string;
}

/** An ACL user the server creates each time it starts, and which its `url` then carries. */
export interface RedisServerUser {
  /** User name. */
  name: string;
  /** Its password. */
  password: string;
  /** `ACL SETUSER` rules after `reset on >password`, e.g. `['~app:*', '&app:*', '+@all', '-@dangerous']`. */
  rules: string[];
}

/** Options of one server. */
export interface RedisServerOptions {
  /** Extra redis-server arguments, e.g. `['--maxmemory', '10mb']`. */
  args?: string[];
  /** The program to run (default `redis-server`, looked up on PATH), e.g. a path or a compatible server. */
  binary?: string;
  /** Start as `<binary> --sentinel` with this config text (port, bind and dir lines added). */
  sentinelConfig?: string;
  /** Fixed port (default: a free one). */
  port?: number;
  /**
   * The `requirepass` the caller set in `args`: used by the readiness probe and `client()`, and put in
   * `connection`.
   */
  password?: string;
  /** An ACL user to create at each start; `url` carries it (`client()` stays the default user). */
  user?: RedisServerUser;
  /**
   * TLS. `true`: the caller passes the TLS args itself, the harness only checks the process runs.
   * Certificate files: the server listens with TLS only on `port` (plain port off, client certs not
   * required), `url` is `rediss://`, and `client()` and `connection` trust the CA.
   */
  tls?: boolean | RedisServerTlsFiles;
}

/**
 * One redis-server process on 127.0.0.1, in its own temp dir, without persistence (no RDB saves, no AOF). Killed
 * with this process however it ends (see {@link reapWithThisProcess}). Also a {@link RedisTopology} of one server.
 */
export class RedisServer implements RedisTopology {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private frozen = false;
  private userReady = false;

  /**
   * Use {@link startRedis}; a server built directly is started with {@link start}.
   * @param port the port it listens on
   * @param dir its working directory (removed by {@link stop})
   */
  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions = {},
  ) {
    removeWithThisProcess(dir);
  }

  /** `127.0.0.1`. */
  readonly host = '127.0.0.1';

  /** `redis://127.0.0.1:<port>` (`rediss://` with TLS certificate files), with the ACL user of the `user` option. */
  get url(): string {
    const user = this.userReady ? this.options.user : undefined;
    const auth = user ? `${encodeURIComponent(user.name)}:${encodeURIComponent(user.password)}@` : '';
    return `${this.tlsFiles ? 'rediss' : 'redis'}://${auth}127.0.0.1:${this.port}`;
  }

  /** RedisModule connection options: `{ url }`, plus `password` and `tls` (trusting the CA) when the server has them. */
  get connection(): RedisTopologyConnection {
    const connection: RedisTopologyConnection = { url: this.url };
    if (this.options.password !== undefined && !this.userReady) connection.password = this.options.password;
    const tls = this.tlsClientOptions();
    if (tls) connection.tls = tls;
    return connection;
  }

  /** This server, as a topology of one. */
  get servers(): readonly RedisServer[] {
    return [this];
  }

  /** The TLS certificate files, when the server was started with them. */
  get tlsFiles(): RedisServerTlsFiles | undefined {
    return typeof this.options.tls === 'object' ? this.options.tls : undefined;
  }

  /** ioredis `tls` options trusting the server's CA (undefined without TLS files). */
  private tlsClientOptions(): { ca: Buffer } | undefined {
    const files = this.tlsFiles;
    return files ? { ca: readFileSync(files.caFile) } : undefined;
  }

  /** The OS process id, while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the process runs (frozen included). */
  get running(): boolean {
    return !!this.child?.pid && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** True while the process is frozen by {@link pause}. */
  get paused(): boolean {
    return this.frozen && this.running;
  }

  /**
   * Starts the process (unless it runs) and waits until it answers PING; it loads the snapshot that
   * {@link save} left in its dir, if any.
   * @throws RedisServerNotFoundError when the binary cannot be run; an `Error` with the server's output when it
   *   exits or does not answer within 10 s
   */
  async start(): Promise<void> {
    if (this.running) return;
    const binary = this.options.binary ?? 'redis-server';
    const child = spawn(binary, this.args(), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.frozen = false;
    this.userReady = false;
    const pid = child.pid;
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (pid) releaseFromReaper({ pid });
        resolve();
      }),
    );
    let spawnError: NodeJS.ErrnoException | undefined;
    await new Promise<void>((resolve) => {
      child.once('spawn', resolve);
      child.once('error', (err) => {
        spawnError = err;
        resolve();
      });
    });
    if (pid) reapWithThisProcess(pid);
    let output = '';
    const collect = (d: Buffer) => {
      if (output.length < OUTPUT_KEPT_CHARS) output += d.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (spawnError) throw spawnError.code === 'ENOENT' ? new RedisServerNotFoundError(binary) : spawnError;
      if (!this.running) throw new Error(`redis-server on port ${this.port} exited: ${output}`);
      if (await this.ping()) {
        await this.createUser();
        return;
      }
      await sleep(20);
    }
    throw new Error(`redis-server on port ${this.port} did not answer within 10 s`);
  }

  /** The command line: a sentinel config file, or the listening, no-persistence and caller's arguments. */
  private args(): string[] {
    if (this.options.sentinelConfig !== undefined) {
      const conf = join(this.dir, 'sentinel.conf');
      // Written once: a restarted sentinel keeps what it learned (the sentinel rewrites its file).
      if (!existsSync(conf))
        writeFileSync(conf, `port ${this.port}\nbind 127.0.0.1\ndir ${this.dir}\n${this.options.sentinelConfig}\n`);
      return [conf, '--sentinel'];
    }
    const files = this.tlsFiles;
    const listen = files
      ? [
          '--port',
          '0',
          '--tls-port',
          String(this.port),
          '--tls-cert-file',
          files.certFile,
          '--tls-key-file',
          files.keyFile,
          '--tls-ca-cert-file',
          files.caFile,
          '--tls-auth-clients',
          'no',
        ]
      : ['--port', String(this.port)];
    return [
      ...listen,
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      ...(this.options.args ?? []),
    ];
  }

  /** The `user` option: (re)creates the ACL user, after which `url` carries it. */
  private async createUser(): Promise<void> {
    const user = this.options.user;
    if (!user) return;
    const admin = this.client();
    try {
      await admin.call('ACL', 'SETUSER', user.name, 'reset', 'on', `>${user.password}`, ...user.rules);
      this.userReady = true;
    } finally {
      admin.disconnect();
    }
  }

  /** One PING with a fresh connection; true when answered. */
  async ping(): Promise<boolean> {
    if (this.options.tls === true) return this.running;
    const probe = new Redis({
      tls: this.tlsClientOptions(),
      host: this.host,
      port: this.port,
      password: this.options.password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      connectTimeout: 500,
      commandTimeout: 500,
    });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return true;
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  /** Kills the process (SIGKILL by default; a frozen one is thawed first) and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.child?.kill('SIGCONT');
    this.child?.kill(signal);
    await this.exited;
    this.frozen = false;
  }

  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  pause(): void {
    if (!this.running) return;
    this.child?.kill('SIGSTOP');
    this.frozen = true;
  }

  /** Thaws a frozen process (SIGCONT). */
  resume(): void {
    if (!this.running) return;
    this.child?.kill('SIGCONT');
    this.frozen = false;
  }

  /**
   * Writes a snapshot of the data (`SAVE`) into the server's dir, which it loads when it starts again.
   * @throws Error when the server is frozen or not running
   */
  async save(): Promise<void> {
    if (!this.running || this.frozen) {
      throw new Error(`redis-server on port ${this.port} is ${this.frozen ? 'frozen' : 'not running'}: cannot SAVE`);
    }
    const admin = this.client();
    try {
      await admin.save();
    } finally {
      admin.disconnect();
    }
  }

  /** Removes the snapshot {@link save} wrote (or a replica's copy of its master's data), so the next start is empty. */
  dropSnapshot(): void {
    rmSync(join(this.dir, 'dump.rdb'), { force: true });
  }

  /** Kills the process and starts a new one on the same port: empty by default, see {@link RedisRestartOptions}. */
  restart(options: RedisRestartOptions = {}): Promise<void> {
    return restartServers([this], () => this.start(), options);
  }

  /** Kills the process and removes its temp dir. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    releaseFromReaper({ dir: this.dir });
  }

  /** A new ioredis client to this server (default user), for assertions; the caller disconnects it. */
  client(options: Partial<RedisOptions> = {}): Redis {
    const c = new Redis({
      host: this.host,
      port: this.port,
      password: this.options.password,
      tls: this.tlsClientOptions(),
      maxRetriesPerRequest: 1,
      ...options,
    });
    c.on('error', () => undefined);
    return c;
  }

  /** {@inheritDoc RedisTopology.eachNode} */
  eachNode<T>(fn: (node: Redis, server: RedisServer) => Promise<T>): Promise<T[]> {
    return eachServer([this], fn);
  }

  /** {@inheritDoc RedisTopology.keys} */
  keys(pattern: string): Promise<string[]> {
    return scanMasters([this], pattern);
  }
}

/**
 * Starts one redis-server on a free port (retrying on another port if the chosen one was taken meanwhile).
 * @throws RedisServerNotFoundError when redis-server is not on PATH
 */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'nrk-redis-'));
    const server = new RedisServer(port, dir, options);
    try {
      await server.start();
      return server;
    } catch (err) {
      await server.stop();
      if (attempt >= 3 || options.port || err instanceof RedisServerNotFoundError) throw err;
    }
  }
}

/** Starts `n` independent servers (e.g. the nodes of a Redlock quorum: LockModule's `nodes`). */
export async function startIndependent(n: number, options: RedisServerOptions = {}): Promise<RedisServer[]> {
  return Promise.all(Array.from({ length: n }, () => startRedis(options)));
}

/**
 * A unique key prefix for one test (`test:<label>:<pid>:<random>:`), so tests sharing a server never see each
 * other's keys: pass it as RedisModule's `keyPrefix`.
 */
export function uniquePrefix(label = 't'): string {
  return `test:${label}:${process.pid}:${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}:`;
}
