import { check } from '../core/option-checker';
import { DEFAULT_KEY_PREFIX, DEFAULT_REDIS_CLIENT } from './redis.constants';
import { RedisConfigError } from './redis.errors';
import type { RedisConnectionOptions, RedisModuleOptions, ResolvedRedisModuleOptions } from './redis.options';

const CONNECTION_KEYS: Array<keyof RedisConnectionOptions> = [
  'url',
  'host',
  'port',
  'db',
  'username',
  'password',
  'tls',
  'sentinels',
  'name',
  'sentinelPassword',
  'nodes',
  'clusterOptions',
  'client',
  'commandTimeoutMs',
  'connectTimeoutMs',
  'failFast',
  'maxReconnectDelayMs',
  'redisOptions',
];

function pickConnection(options: RedisModuleOptions): RedisConnectionOptions {
  const picked: Record<string, unknown> = {};
  for (const key of CONNECTION_KEYS) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked as RedisConnectionOptions;
}

function checkNodes(path: string, nodes: unknown): void {
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new RedisConfigError(path, 'must be a non-empty array of { host, port }');
  }
  nodes.forEach((node: unknown, i) => {
    const n = node as { host?: unknown; port?: unknown } | null;
    if (
      !n ||
      typeof n.host !== 'string' ||
      !Number.isInteger(n.port) ||
      (n.port as number) <= 0 ||
      (n.port as number) > 65535
    ) {
      throw new RedisConfigError(`${path}[${i}]`, 'must be { host: string, port: 1..65535 }');
    }
  });
}

/**
 * Checks the connection options of one client and throws a {@link RedisConfigError} naming the option.
 * @param path where these options sit, e.g. `clients.default`
 */
export function validateConnectionOptions(path: string, o: RedisConnectionOptions): void {
  const prefix = path ? `${path}.` : '';
  const kinds = [
    o.url !== undefined && 'url',
    o.sentinels !== undefined && 'sentinels',
    o.nodes !== undefined && 'nodes',
    o.client !== undefined && 'client',
  ].filter(Boolean) as string[];
  if (kinds.length > 1) {
    throw new RedisConfigError(
      `${prefix}${kinds[1]}`,
      `cannot be combined with "${prefix}${kinds[0]}"; give one way to connect`,
    );
  }
  if (o.url !== undefined) {
    if (typeof o.url !== 'string') throw new RedisConfigError(`${prefix}url`, 'must be a string');
    let parsed: URL;
    try {
      parsed = new URL(o.url);
    } catch {
      throw new RedisConfigError(
        `${prefix}url`,
        `cannot parse "${o.url}" (expected redis://host:port or rediss://host:port)`,
      );
    }
    if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
      throw new RedisConfigError(
        `${prefix}url`,
        `unsupported scheme "${parsed.protocol}" (expected redis: or rediss:)`,
      );
    }
    if (!parsed.hostname) throw new RedisConfigError(`${prefix}url`, `no host in "${o.url}"`);
  }
  if (o.sentinels !== undefined) {
    checkNodes(`${prefix}sentinels`, o.sentinels);
    if (!o.name) throw new RedisConfigError(`${prefix}name`, 'is required with "sentinels" (the master group name)');
  }
  if (o.nodes !== undefined) {
    checkNodes(`${prefix}nodes`, o.nodes);
    if (o.db !== undefined && o.db !== 0)
      throw new RedisConfigError(`${prefix}db`, 'Redis Cluster has only database 0');
  }
  check.positiveInt(`${prefix}port`, o.port, { max: 65535 });
  check.nonNegativeInt(`${prefix}db`, o.db);
  check.durationMs(`${prefix}commandTimeoutMs`, o.commandTimeoutMs, { min: 1 });
  check.durationMs(`${prefix}connectTimeoutMs`, o.connectTimeoutMs, { min: 1 });
  check.durationMs(`${prefix}maxReconnectDelayMs`, o.maxReconnectDelayMs);
}

/**
 * Validates RedisModule options and fills in defaults. Throws {@link RedisConfigError} naming the
 * offending option, so a misconfigured service fails at startup with a readable message.
 */
export function resolveRedisModuleOptions(options: RedisModuleOptions = {}): ResolvedRedisModuleOptions {
  if (options === null || typeof options !== 'object') check.fail('options', 'must be an object');
  const topLevel = pickConnection(options);
  const clients: Record<string, RedisConnectionOptions> = { ...(options.clients ?? {}) };
  if (clients[DEFAULT_REDIS_CLIENT] && Object.keys(topLevel).length > 0) {
    throw new RedisConfigError(
      'clients.default',
      'cannot be combined with top-level connection options; give one of them',
    );
  }
  if (!clients[DEFAULT_REDIS_CLIENT]) clients[DEFAULT_REDIS_CLIENT] = topLevel;
  for (const [name, conn] of Object.entries(clients)) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(name)) {
      throw new RedisConfigError(`clients.${name}`, 'client names may use letters, digits, "_", ".", ":" and "-"');
    }
    if (conn === null || typeof conn !== 'object') throw new RedisConfigError(`clients.${name}`, 'must be an object');
    validateConnectionOptions(
      name === DEFAULT_REDIS_CLIENT && !options.clients?.default ? '' : `clients.${name}`,
      conn,
    );
  }
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (typeof keyPrefix !== 'string') throw new RedisConfigError('keyPrefix', 'must be a string');
  if (/[\s{}]/.test(keyPrefix)) {
    throw new RedisConfigError('keyPrefix', 'must not contain whitespace or braces (braces are hash tags on Cluster)');
  }
  check.durationMs('readyTimeoutMs', options.readyTimeoutMs, { min: 1 });
  check.durationMs('healthTimeoutMs', options.healthTimeoutMs, { min: 1 });
  return {
    clients,
    keyPrefix,
    readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
    lazyConnect: options.lazyConnect ?? false,
    healthTimeoutMs: options.healthTimeoutMs ?? 1_000,
  };
}
