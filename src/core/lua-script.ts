import { createHash } from 'node:crypto';
import { Command } from 'ioredis';
import type { RedisClient } from '../redis/redis.options';
import { deadlines, SweptCommand } from './deadline-sweeper';

/** How a feature declares one Lua script (in its `<feature>.scripts.ts`). */
export interface LuaScriptDefinition {
  /** Name for errors and logs, e.g. `cache.touchTag`. */
  name: string;
  /** Number of KEYS the script takes, or `'variadic'` when the caller decides (checked on every call). */
  keys: number | 'variadic';
  /**
   * The source. It must open with a comment header naming its `KEYS`, its `ARGV` and what it `Returns`
   * (one line each, `KEYS: none` when it has none), so that the contract is read where the code is.
   */
  lua: string;
}

/** Script arguments: Redis receives them as strings. */
export type LuaArg = string | number;

const HEADER_LINES = ['KEYS', 'ARGV', 'Returns'] as const;

/** The leading comment of a Lua source (`--` lines or one `--[[ ]]` block), or '' when it has none. */
function leadingComment(lua: string): string {
  const text = lua.trimStart();
  if (text.startsWith('--[[')) {
    const end = text.indexOf(']]');
    return end < 0 ? '' : text.slice(0, end);
  }
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trimStart().startsWith('--')) break;
    lines.push(line);
  }
  return lines.join('\n');
}

/**
 * One Lua script of the library. Sent with EVALSHA; when the server does not know it yet (first call on a
 * node, a restart, a failover, a new Cluster node: `NOSCRIPT`) it is sent once with EVAL, which also caches it
 * there. No registration step and no per-client state, so it works the same on one node, through Sentinel and
 * on every node of a Cluster (the keys route the call; multi-key scripts need keys with one hash tag).
 */
export class LuaScript {
  /** SHA1 of the source, as EVALSHA wants it. */
  readonly sha1: string;

  /** @throws Error when the source lacks its KEYS/ARGV/Returns header (a programming error, at load time) */
  constructor(readonly definition: LuaScriptDefinition) {
    const header = leadingComment(definition.lua);
    const missing = HEADER_LINES.filter((word) => !new RegExp(`\\b${word}\\b`).test(header));
    if (missing.length > 0) {
      throw new Error(`Lua script ${definition.name}: its header comment must name ${missing.join(', ')}`);
    }
    this.sha1 = createHash('sha1').update(definition.lua).digest('hex');
  }

  /** The script's name. */
  get name(): string {
    return this.definition.name;
  }

  /**
   * Runs the script on `client`. With `timeoutMs` the call is bounded by the shared deadline sweeper alone (rejects
   * with a `RedisTimeoutError`; the client's `commandTimeout` timer is not armed as well); without it the client's own
   * `commandTimeout` applies.
   * @param keys its KEYS (routing on Cluster)
   * @param args its ARGV
   */
  run<T>(client: RedisClient, keys: readonly string[], args: readonly LuaArg[], timeoutMs?: number): Promise<T> {
    return this.runThen<T, T>(client, keys, args, timeoutMs, identity, rethrow);
  }

  /**
   * {@link run} with the caller's continuations attached where the reply arrives: `script.runThen(c, k, a, ms, onReply,
   * onError)` answers what `script.run(c, k, a, ms).then(onReply, onError)` would, one promise and one microtask fewer
   * per call (a hot path: every rate decision). `onError` also gets a wrong number of keys.
   */
  runThen<T, R>(
    client: RedisClient,
    keys: readonly string[],
    args: readonly LuaArg[],
    timeoutMs: number | undefined,
    onReply: (reply: T) => R,
    onError: (err: unknown) => R,
  ): Promise<R> {
    const { keys: expected } = this.definition;
    if (expected !== 'variadic' && keys.length !== expected) {
      const err = new Error(`Lua script ${this.name} takes ${expected} key(s), got ${keys.length}`);
      return Promise.reject(err).then(onReply, onError);
    }
    // [sha1, numkeys, ...keys, ...args] in one pass (a hot path: every lock and rate decision).
    const line: LuaArg[] = new Array<LuaArg>(2 + keys.length + args.length);
    line[0] = this.sha1;
    line[1] = keys.length;
    for (let i = 0; i < keys.length; i++) line[2 + i] = keys[i];
    for (let i = 0; i < args.length; i++) line[2 + keys.length + i] = args[i];
    return this.send<T>(client, 'evalsha', line, timeoutMs).then(onReply, (err: unknown) => {
      if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) return onError(err);
      return this.send<T>(client, 'eval', [this.definition.lua, ...line.slice(1)], timeoutMs).then(onReply, onError);
    });
  }

  /**
   * The arguments of an `EVAL` of this script, for a pipeline or a MULTI (`pipeline.call(...script.evalArgs(k, a))`),
   * where the EVALSHA fallback cannot run.
   */
  evalArgs(keys: readonly string[], args: readonly LuaArg[]): [string, ...LuaArg[]] {
    return ['EVAL', this.definition.lua, keys.length, ...keys, ...args];
  }

  private send<T>(client: RedisClient, name: string, args: LuaArg[], timeoutMs: number | undefined): Promise<T> {
    if (timeoutMs !== undefined) {
      return deadlines.send<T>(client, new SweptCommand(name, args, { replyEncoding: 'utf8' }), timeoutMs);
    }
    const command = new Command(name, args, { replyEncoding: 'utf8' });
    void client.sendCommand(command);
    return command.promise as Promise<T>;
  }
}

function identity<T>(value: T): T {
  return value;
}

function rethrow(err: unknown): never {
  throw err;
}

/** Declares one script (see {@link LuaScript}); a feature keeps its scripts in `<feature>.scripts.ts`. */
export function defineScript(definition: LuaScriptDefinition): LuaScript {
  return new LuaScript(definition);
}
