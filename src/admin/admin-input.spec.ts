import { BadRequestException } from '@nestjs/common';
import { bulkFilter, entryId, identifier, pageSize, streamName } from './admin-input';

describe('admin input', () => {
  it('takes stream names without braces or spaces', () => {
    expect(streamName('orders')).toBe('orders');
    for (const bad of ['', 'a{b', 'a b', 'x'.repeat(257), 42])
      expect(() => streamName(bad)).toThrow(BadRequestException);
  });

  it('takes stream entry ids only', () => {
    expect(entryId('1700000000000-0')).toBe('1700000000000-0');
    expect(() => entryId('1700000000000')).toThrow(/stream entry id/);
    expect(() => entryId('-', 'after')).toThrow(/after must be/);
  });

  it('bounds the page size', () => {
    expect(pageSize(undefined, 50, 500)).toBe(50);
    expect(pageSize('20', 50, 500)).toBe(20);
    for (const bad of ['0', '501', '1.5', 'ten']) expect(() => pageSize(bad, 50, 500)).toThrow(/from 1 to 500/);
  });

  it('takes user and session ids', () => {
    expect(identifier('42', 'userId')).toBe('42');
    expect(() => identifier('', 'sid')).toThrow(/sid must be/);
  });

  it('needs {all: true} or a non-empty filter, never an accidental everything', () => {
    expect(bulkFilter({ all: true })).toEqual({});
    expect(bulkFilter({ filter: { error: 'boom', group: 'g' } })).toEqual({ error: 'boom', group: 'g' });
    expect(() => bulkFilter({})).toThrow(/"all": true/);
    expect(() => bulkFilter(undefined)).toThrow(/JSON body/);
    expect(() => bulkFilter({ all: false })).toThrow(/either/);
    expect(() => bulkFilter({ all: true, filter: { error: 'x' } })).toThrow(/either/);
    expect(() => bulkFilter({ filter: {} })).toThrow(/needs error or group/);
    expect(() => bulkFilter({ filter: { colour: 'red' } })).toThrow(/filter.colour is not a filter/);
    expect(() => bulkFilter({ filter: { error: 3 } })).toThrow(/filter.error must be a string/);
  });
});
