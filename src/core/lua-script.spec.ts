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
});
