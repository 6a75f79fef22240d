import type { Command } from 'ioredis';
import { defineScript } from './lua-script';

describe('defineScript', () => {
  it('accepts a script with a KEYS / ARGV / Returns header and computes its SHA1', () => {
    const s = defineScript({
      name: 'test.get',
      keys: 1,
      lua: `-- KEYS[1]: the key
-- ARGV: none
-- Returns: the value or nil
return redis.call('GET', KEYS[1])`,
    });
    expect(s.sha1).toMatch(/^[0-9a-f]{40}$/);
    expect(s.evalArgs(['k'], [1])).toEqual(['EVAL', s.definition.lua, 1, 'k', 1]);
  });

  it('accepts a --[[ ]] block header', () => {
    expect(() =>
      defineScript({ name: 'b', keys: 0, lua: '--[[\nKEYS: none\nARGV[1]: x\nReturns: x\n]]\nreturn ARGV[1]' }),
    ).not.toThrow();
  });

  it('refuses a script without its header, naming what is missing', () => {
    expect(() => defineScript({ name: 'bad', keys: 1, lua: `return redis.call('GET', KEYS[1])` })).toThrow(
      /bad: its header comment must name KEYS, ARGV, Returns/,
    );
    expect(() => defineScript({ name: 'half', keys: 1, lua: `-- KEYS[1]: k\nreturn 1` })).toThrow(/ARGV, Returns/);
  });

  it('rejects a call with the wrong number of keys without sending it', async () => {
    const s = defineScript({
      name: 'two',
      keys: 2,
      lua: '-- KEYS[1], KEYS[2]\n-- ARGV: none\n-- Returns: 1\nreturn 1',
    });
    await expect(s.run({} as never, ['a'], [])).rejects.toThrow(/takes 2 key\(s\), got 1/);
  });

  it('runThen: the reply to onReply; after NOSCRIPT the EVAL once; errors and a wrong key count to onError', async () => {
    const s = defineScript({ name: 'one', keys: 1, lua: '-- KEYS[1]: k\n-- ARGV: none\n-- Returns: 1\nreturn 1' });
    const sent: Array<[string, unknown[]]> = [];
    const client = (...replies: Array<Error | number>) =>
      ({
        sendCommand: (command: Command) => {
          sent.push([command.name, command.args]);
          const reply = replies.shift();
          if (reply instanceof Error) command.reject(reply);
          else command.resolve(reply);
        },
      }) as never;
    const onReply = (n: number) => `reply ${n}`;
    const onError = (err: unknown) => `error ${(err as Error).message}`;
    await expect(s.runThen(client(7), ['k'], [1], 100, onReply, onError)).resolves.toBe('reply 7');
    expect(sent.splice(0)).toEqual([['evalsha', [s.sha1, '1', 'k', '1']]]);
    await expect(
      s.runThen(client(new Error('NOSCRIPT No matching script'), 8), ['k'], [], 100, onReply, onError),
    ).resolves.toBe('reply 8');
    expect(sent.splice(0).map(([name, args]) => [name, args[0]])).toEqual([
      ['evalsha', s.sha1],
      ['eval', s.definition.lua],
    ]);
    await expect(s.runThen(client(new Error('ERR boom')), ['k'], [], 100, onReply, onError)).resolves.toBe(
      'error ERR boom',
    );
    await expect(s.runThen(client(), [], [], 100, onReply, onError)).resolves.toMatch(/error .*takes 1 key/);
    expect(sent.splice(0)).toHaveLength(1);
  });
});
