import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (value === undefined || value === '' ? undefined : Number(value));

/**
 * Environment variables of the reference service, validated at startup. Every one is listed in the
 * README's configuration table; features add theirs here.
 */
export class AppConfig {
  /** `development`, `production` or `test`. */
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  /** HTTP port (default 3000). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** HTTP port of the worker's (`npm run start:worker`) probes: /health, /health/ready, /metrics (default 3001; 0 = any free port). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  WORKER_PORT = 3001;

  /** HTTP port of the inventory service's (`npm run start:inventory`) probes: /health, /health/ready, /metrics (default 3002; 0 = any free port). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  INVENTORY_PORT = 3002;

  /** Log level of the JSON logs: fatal, error, warn, info, debug, trace or silent (default `info`; `silent` when NODE_ENV=test). */
  @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

  /** Redis to use; when unset, `npm start` runs a private redis-server. */
  @IsOptional()
  @Matches(/^rediss?:\/\/.+/, { message: 'REDIS_URL must look like redis://host:port or rediss://host:port' })
  REDIS_URL?: string;

  /** Prefix of every Redis key the service writes (default `nrk:`). */
  @IsString()
  @Matches(/^[^\s{}]*$/, { message: 'REDIS_KEY_PREFIX must not contain whitespace or braces' })
  REDIS_KEY_PREFIX = 'nrk:';

  /** Sentinels `host:port,host:port`: connect to the master of REDIS_SENTINEL_NAME through them (REDIS_URL's user, password, db, TLS still apply). */
  @IsOptional()
  @Matches(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, { message: 'REDIS_SENTINELS must look like host:port,host:port' })
  REDIS_SENTINELS?: string;

  /**
   * Redis Cluster seed nodes `host:port,host:port` (any masters; the rest is discovered): the service uses the
   * cluster (REDIS_URL's user, password and TLS still apply). Not with REDIS_SENTINELS.
   */
  @IsOptional()
  @Matches(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, {
    message: 'REDIS_CLUSTER_NODES must look like host:port,host:port',
  })
  REDIS_CLUSTER_NODES?: string;

  /** Master group name monitored by the Sentinels (default `mymaster`). */
  @Matches(/^[A-Za-z0-9_.-]+$/, { message: 'REDIS_SENTINEL_NAME may use letters, digits, "_", "." and "-"' })
  REDIS_SENTINEL_NAME = 'mymaster';

  /** Origins allowed by CORS, comma-separated, or `*` (then without cookies); unset: no CORS headers. */
  @IsOptional()
  @Matches(/^(\*|https?:\/\/[^\s,/]+\/?(\s*,\s*https?:\/\/[^\s,/]+\/?)*)$/, {
    message: 'CORS_ORIGINS must be * or a comma-separated list of origins like https://app.example.com',
  })
  CORS_ORIGINS?: string;

  /** Largest accepted request body in kilobytes (default 100); a larger one is answered 413. */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(102_400)
  HTTP_BODY_LIMIT_KB = 100;

  /** Requests per minute per client IP on every route, counted in Redis (default 1000; 0 = off; off by default when NODE_ENV=test). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  RATE_LIMIT_PER_MINUTE?: number;

  /** POST /auth/login requests per minute per client IP (default 10; 0 = off; off by default when NODE_ENV=test). */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  LOGIN_RATE_LIMIT_PER_MINUTE?: number;

  /**
   * `GET /catalog/search` requests per minute per client IP, a sliding window of `RateLimitModule` with the IETF
   * `RateLimit` headers (default 120; 0 = off; off by default when NODE_ENV=test).
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SEARCH_RATE_LIMIT_PER_MINUTE?: number;

  /** Express `trust proxy` (e.g. `1`, `loopback`): set it behind a reverse proxy so rate limits see client IPs. */
  @IsOptional()
  @IsString()
  TRUST_PROXY?: string;

  /** PostgreSQL connection string; when unset, the embedded PGlite database under DATA_DIR is used. */
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must look like postgres://user@host:port/db' })
  DATABASE_URL?: string;

  /** Directory of the embedded PGlite database (default `./.data`). */
  @IsString()
  @MinLength(1)
  DATA_DIR = './.data';

  /** TTL of cached answers (`GET /users/:id`, `GET /catalog/search`), in milliseconds (default 60000). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400_000)
  CACHE_TTL_MS = 60_000;

  /**
   * Products seeded into the catalog at startup (one INSERT, idempotent): default 100000, 1000 when NODE_ENV=test;
   * 0 = none.
   */
  @IsOptional()
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(5_000_000)
  CATALOG_SEED_ROWS?: number;

  /** Near cache (in-process LRU in front of Redis) size in entries; 0 (default) turns it off. */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  CACHE_NEAR_MAX_ENTRIES = 0;

  /** Lease of a distributed lock in milliseconds (default 10000); `using()` / `@WithLock` extend it every third. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  LOCK_TTL_MS = 10_000;

  /** How long a request waits for a busy lock before answering 423 + Retry-After, in milliseconds (default 5000). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(600_000)
  LOCK_WAIT_MS = 5_000;

  /**
   * An order still `pending` after this many milliseconds is marked `expired` by the scheduled clean-up job (every
   * 5 s, on one instance; default 900000 = 15 min).
   */
  @Transform(toInt)
  @IsInt()
  @Min(1_000)
  ORDER_PENDING_TTL_MS = 900_000;

  /**
   * How long `POST /orders` waits for the inventory service's answer to its reserve request, in milliseconds
   * (default 1000); a request that times out is sent once more, with the same order id, waiting half as long, then
   * the order fails with 503.
   */
  @Transform(toInt)
  @IsInt()
  @Min(50)
  @Max(60_000)
  ORDER_RESERVE_TIMEOUT_MS = 1_000;

  /**
   * A new order gets an `order.reminder` notification this many milliseconds after it was created, through a delayed
   * stream message (default 1800000 = 30 min).
   */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(2_592_000_000)
  REMINDER_DELAY_MS = 1_800_000;

  /** Independent Redis nodes for Redlock quorum locks, comma-separated URLs (default: lock on REDIS_URL). */
  @IsOptional()
  @Matches(/^rediss?:\/\/[^,\s]+(,rediss?:\/\/[^,\s]+)*$/, {
    message: 'LOCK_NODES must be comma-separated redis://host:port URLs',
  })
  LOCK_NODES?: string;

  /** Secret(s) that sign the session cookie, comma-separated: the first signs, all verify (rotation). */
  @IsString()
  @MinLength(16, { message: 'SESSION_SECRET must be at least 16 characters' })
  SESSION_SECRET = 'dev-only-insecure-session-secret-change-me';

  /** Session lifetime in milliseconds: cookie maxAge and Redis TTL (default 86400000 = 24 h). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  SESSION_TTL_MS = 86_400_000;

  /** `Secure` session cookie (HTTPS only); default: on when NODE_ENV=production, off otherwise. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'SESSION_COOKIE_SECURE must be true or false' })
  SESSION_COOKIE_SECURE?: boolean;

  /** Session cookie name (default `nrk.sid`). */
  @Matches(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, { message: 'SESSION_COOKIE_NAME must be a valid cookie name' })
  SESSION_COOKIE_NAME = 'nrk.sid';

  /** Sliding sessions: each request extends the session (default true). */
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'SESSION_ROLLING must be true or false' })
  SESSION_ROLLING = true;

  /** Most sessions one user may hold at once; 0 = no limit (default 0). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SESSION_MAX_PER_USER = 0;

  /** What a login beyond SESSION_MAX_PER_USER does: `evict-oldest` (default) or `refuse-new` (409). */
  @IsIn(['evict-oldest', 'refuse-new'], { message: 'SESSION_LIMIT_POLICY must be evict-oldest or refuse-new' })
  SESSION_LIMIT_POLICY: 'evict-oldest' | 'refuse-new' = 'evict-oldest';

  /**
   * Durability of the `orders` stream message: `master` (default: acknowledged by the master, replicated
   * asynchronously) or `replicated` (the order is accepted only once one replica has its message, `WAIT` up to 1 s;
   * else 503 and the order is rolled back).
   */
  @IsIn(['master', 'replicated'], { message: 'ORDERS_DURABILITY must be master or replicated' })
  ORDERS_DURABILITY: 'master' | 'replicated' = 'master';

  /** Absolute session lifetime from login in milliseconds, whatever the activity; 0 = none (default 604800000 = 7 days). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  SESSION_ABSOLUTE_TIMEOUT_MS = 604_800_000;

  /**
   * Usernames given the `admin` role (comma-separated): they open the operations page at /admin. Unset: only users
   * whose `role` column says `admin`; the demo user is not one unless listed.
   */
  @IsOptional()
  @Matches(/^[^\s,]+(\s*,\s*[^\s,]+)*$/, { message: 'ADMIN_USERS must be a comma-separated list of usernames' })
  ADMIN_USERS?: string;

  /** Operations page read-only: redrive, delete, revoke and clear answer 403 (default false). */
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean({ message: 'ADMIN_READ_ONLY must be true or false' })
  ADMIN_READ_ONLY = false;

  /** Failed logins per username + IP before 429 (default 5). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  LOGIN_MAX_ATTEMPTS = 5;

  /** Window of the failed-login counter in milliseconds (default 900000 = 15 min). */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  LOGIN_WINDOW_MS = 900_000;
}

/** @nestjs/config `validate` hook: parses and checks the environment; throws one message listing every problem. */
export function validateConfig(env: Record<string, unknown>): AppConfig {
  const config = plainToInstance(AppConfig, env, { exposeDefaultValues: true });
  const errors = validateSync(config, { whitelist: false, skipMissingProperties: false });
  const lines = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `  - ${e.property}: ${m}`));
  lines.push(...crossFieldProblems(config).map((m) => `  - ${m}`));
  if (lines.length > 0) throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  if (config.NODE_ENV === 'production' && config.SESSION_SECRET === new AppConfig().SESSION_SECRET) {
    throw new Error('Invalid configuration:\n  - SESSION_SECRET: must be set in production');
  }
  return config;
}

/** Problems of variables that are valid alone but not together (`NAME: message` each). */
function crossFieldProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  if (config.REDIS_CLUSTER_NODES && config.REDIS_SENTINELS) {
    problems.push(
      'REDIS_CLUSTER_NODES: cannot be combined with REDIS_SENTINELS; give one way to reach Redis (a Cluster or a Sentinel group)',
    );
  }
  if (config.REDIS_CLUSTER_NODES && config.REDIS_URL) {
    const db = /^rediss?:\/\/[^/]*\/(\d+)/.exec(config.REDIS_URL)?.[1];
    if (db !== undefined && Number(db) !== 0) {
      problems.push(`REDIS_URL: database ${db} with REDIS_CLUSTER_NODES; a Redis Cluster has only database 0`);
    }
  }
  return problems;
}
