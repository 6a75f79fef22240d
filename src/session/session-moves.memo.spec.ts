import { SessionMovesMemo } from './session-moves.memo';

describe('SessionMovesMemo', () => {
  it('gives the expiry noted for a session within the window, and nothing after it or once forgotten', () => {
    const memo = new SessionMovesMemo(1_000);
    memo.note('s1', 10_000, 70_000);
    memo.note('s2', 10_500, 70_500);
    expect(memo.recentExpiry('s1', 10_999)).toBe(70_000);
    expect(memo.recentExpiry('s1', 11_000)).toBeUndefined(); // a move as old as the window holds nothing back
    expect(memo.size).toBe(1); // and is dropped
    expect(memo.recentExpiry('s2', 11_000)).toBe(70_500);
    memo.forget('s2');
    expect(memo.recentExpiry('s2', 11_000)).toBeUndefined();
    expect(memo.size).toBe(0);
  });

  it('a new note replaces the old one and counts from its own time', () => {
    const memo = new SessionMovesMemo(1_000);
    memo.note('s1', 10_000, 20_000);
    memo.note('s2', 10_100, 20_100);
    memo.note('s1', 10_800, 15_000);
    expect(memo.recentExpiry('s1', 11_500)).toBe(15_000);
    expect(memo.recentExpiry('s2', 11_500)).toBeUndefined();
    expect(memo.size).toBe(1);
  });

  it('remembers at most 10 000 sessions, forgetting the oldest first', () => {
    const memo = new SessionMovesMemo(60_000);
    for (let i = 0; i <= 10_000; i++) memo.note(`s${i}`, 1_000, 2_000);
    expect(memo.size).toBe(10_000);
    expect(memo.recentExpiry('s0', 1_000)).toBeUndefined();
    expect(memo.recentExpiry('s10000', 1_000)).toBe(2_000);
  });
});
