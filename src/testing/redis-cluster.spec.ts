import { clusterSlotRanges } from './redis-cluster';

describe('clusterSlotRanges', () => {
  it('splits the 16384 slots into contiguous, even shares', () => {
    expect(clusterSlotRanges(3)).toEqual([
      [0, 5460],
      [5461, 10921],
      [10922, 16383],
    ]);
    expect(clusterSlotRanges(1)).toEqual([[0, 16383]]);
    const ranges = clusterSlotRanges(7);
    ranges.forEach(([first], i) => expect(first).toBe(i === 0 ? 0 : ranges[i - 1][1] + 1));
    expect(ranges[6][1]).toBe(16383);
  });

  it('refuses a count that cannot serve every slot', () => {
    expect(() => clusterSlotRanges(0)).toThrow(RangeError);
    expect(() => clusterSlotRanges(1.5)).toThrow(RangeError);
  });
});
