import { sleep } from '../core/deadline';
import type { SessionIndex } from './session.index';
import { SessionIndexRefresher } from './session-index.refresher';

function fakeIndex(fail = false) {
  const calls: string[] = [];
  const index = {
    touch: (userId: string, sid: string) => {
      calls.push(`${userId}/${sid}`);
      return fail ? Promise.reject(new Error('down')) : Promise.resolve();
    },
  } as unknown as SessionIndex;
  return { index, calls };
}

describe('SessionIndexRefresher', () => {
  it('moves one session’s entry at most once per refresh interval', async () => {
    const { index, calls } = fakeIndex();
    const refresher = new SessionIndexRefresher(index, 40);
    refresher.refresh('u1', 's1', 1_000);
    refresher.refresh('u1', 's1', 1_000);
    refresher.refresh('u1', 's2', 1_000);
    expect(calls).toEqual(['u1/s1', 'u1/s2']);
    await sleep(60);
    refresher.refresh('u1', 's1', 1_000);
    expect(calls).toEqual(['u1/s1', 'u1/s2', 'u1/s1']);
  });

  it('remembers only the sessions moved within the refresh interval, and none once forgotten', async () => {
    const { index, calls } = fakeIndex();
    const refresher = new SessionIndexRefresher(index, 500);
    for (let i = 0; i < 50; i++) refresher.refresh('u1', `old${i}`, 1_000);
    expect(refresher.size).toBe(50);
    await sleep(550);
    refresher.refresh('u1', 'new', 1_000);
    expect(refresher.size).toBe(1);
    refresher.forget('new');
    expect(refresher.size).toBe(0);
    refresher.refresh('u1', 'new', 1_000);
    expect(calls.slice(-2)).toEqual(['u1/new', 'u1/new']);
  });

  it('tries again at the next request after a failed move', async () => {
    const { index, calls } = fakeIndex(true);
    const refresher = new SessionIndexRefresher(index, 60_000);
    refresher.refresh('u1', 's1', 1_000);
    await sleep(0);
    refresher.refresh('u1', 's1', 1_000);
    expect(calls).toEqual(['u1/s1', 'u1/s1']);
  });
});
