import { RedisUnavailableError } from '../redis/redis.errors';
import type { RedisClient } from '../redis/redis.options';
import type { LuaArg, LuaScript } from './lua-script';
import {
  RATE_DECISION_ALGORITHMS,
  RateDecider,
  parseDecisionReply,
  rateBlockKey,
  rateStateKey,
  type DecisionReply,
  type RateDecisionParams,
} from './rate-decision';
import type { DecisionRunner } from './rate-decision.runner';
import { FIXED_WINDOW, FIXED_WINDOW_BLOCKING, GCRA, SLIDING_WINDOW, TOKEN_BUCKET } from './rate-decision.scripts';

/** A runner that records what it is asked and answers `reply`; its client records the commands sent (DEL). */
function fakeRunner(reply: DecisionReply | RedisUnavailableError = [1, 1, 1_000, 0]) {
  const calls: Array<{ script: string; keys: readonly string[]; args: readonly LuaArg[] }> = [];
  const deleted: unknown[][] = [];
  const client = {
    status: 'ready',
    sendCommand: (command: { name: string; args: unknown[]; resolve: (v: unknown) => void; promise: unknown }) => {
      if (command.name === 'del') deleted.push(command.args);
      command.resolve(command.args.length);
      return command.promise;
    },
  };
  const runner = {
    client: () => client as unknown as RedisClient,
    breaker: { allow: () => true },
    timeoutMs: 100,
    run: (script: LuaScript, keys: readonly string[], args: readonly LuaArg[]) => {
      calls.push({ script: script.name, keys, args });
      return Promise.resolve(reply);
    },
  } as unknown as DecisionRunner;
  return { runner, calls, deleted };
}

const window = (algorithm: RateDecisionParams['algorithm']): RateDecisionParams => ({
  algorithm,
  limit: 5,
  windowMs: 60_000,
  ratePerSec: undefined,
});

describe('rate decisions (shared mechanism)', () => {
  it('keys: one hash tag per limit and client, the block marker in the same slot', () => {
    const state = rateStateKey('nrk:sess:', 'login', 'ab12');
    expect(state).toBe('nrk:sess:{login:ab12}');
    expect(rateBlockKey(state)).toBe('nrk:sess:{login:ab12}:block');
  });

  it('one script per algorithm, one key each; the throttler mode of the fixed window adds its block marker', () => {
    expect(RATE_DECISION_ALGORITHMS).toEqual(['fixed-window', 'sliding-window', 'token-bucket', 'gcra']);
    expect([FIXED_WINDOW, SLIDING_WINDOW, TOKEN_BUCKET, GCRA].map((s) => s.definition.keys)).toEqual([1, 1, 1, 1]);
    expect(FIXED_WINDOW_BLOCKING.definition.keys).toBe(2);
  });

  it('the fixed window runs in limiter mode on its counter, and answers a count', async () => {
    const { runner, calls } = fakeRunner([1, 2, 30_000, 0]);
    const decider = new RateDecider(window('fixed-window'), runner);
    const reply = await decider.decide('p:{login:x}', 1);
    expect(calls).toEqual([{ script: FIXED_WINDOW.name, keys: ['p:{login:x}'], args: [60_000, 5, 1] }]);
    expect(decider.remainingOf(reply as DecisionReply)).toBe(3);
  });

  it.each([
    ['sliding-window', SLIDING_WINDOW, window('sliding-window'), [60_000, 5, 2]],
    ['token-bucket', TOKEN_BUCKET, { algorithm: 'token-bucket', limit: 4, windowMs: 2_000, ratePerSec: 2 }, [2, 4, 2]],
    ['gcra', GCRA, { algorithm: 'gcra', limit: 4, windowMs: 2_000, ratePerSec: 2 }, [2, 4, 2]],
  ] as const)('%s runs its script on one key and answers what remains', async (_name, script, params, args) => {
    const { runner, calls } = fakeRunner([1, 3, 1_000, 0]);
    const decider = new RateDecider(params as RateDecisionParams, runner);
    const reply = await decider.decide('k', 2);
    expect(calls).toEqual([{ script: script.name, keys: ['k'], args }]);
    expect(decider.remainingOf(reply as DecisionReply)).toBe(3);
  });

  it('passes on the RedisUnavailableError of the runner (the caller applies its fail mode)', async () => {
    const down = new RedisUnavailableError('Redis client is end');
    const decider = new RateDecider(window('gcra'), fakeRunner(down).runner);
    await expect(decider.decide('k', 1)).resolves.toBe(down);
  });

  it("reads the scripts' reply, four integers in one string", () => {
    expect(parseDecisionReply('1 4 59000 0')).toEqual([1, 4, 59_000, 0]);
    expect(parseDecisionReply('0 0 -1 12')).toEqual([0, 0, -1, 12]);
    for (const bad of ['1 2 3', '1 2 3 4 5', '1  2 3 4', '1 2 3 x', '', 7, null, [1, 2, 3, 4]]) {
      expect(() => parseDecisionReply(bad)).toThrow(/Unexpected rate decision reply/);
    }
  });

  it('reset deletes the counter and its block marker', async () => {
    const { runner, deleted } = fakeRunner();
    await new RateDecider(window('fixed-window'), runner).reset('p:{a:b}', 'the limit "a"');
    expect(deleted).toEqual([['p:{a:b}', 'p:{a:b}:block']]);
  });
});
