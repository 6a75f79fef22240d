import { sleep } from '../core';
import { LockContext } from './lock.context';
import type { LockHandle } from './lock.handle';

const handle = (name: string) => ({ resources: [name] }) as unknown as LockHandle;

describe('LockContext', () => {
  it('gives the handle of the running work across awaits, nested works their own, nothing outside', async () => {
    const context = new LockContext(20);
    expect(context.current()).toBeUndefined();
    const seen: Array<string | undefined> = [];
    const inner = () =>
      context.run(handle('inner'), async () => {
        await sleep(1);
        seen.push(context.current()?.resources[0]);
      });
    await context.run(handle('outer'), async () => {
      seen.push(context.current()?.resources[0]);
      await sleep(1);
      await inner().finally(() => context.leave());
      seen.push(context.current()?.resources[0]);
    });
    context.leave();
    expect(seen).toEqual(['outer', 'inner', 'outer']);
    expect(context.current()).toBeUndefined();
  });

  it('switches the storage off once no work ran for idleMs, and back on for the next work', async () => {
    const context = new LockContext(20);
    const a = context.run(handle('a'), () => sleep(5));
    const b = context.run(handle('b'), () => sleep(40));
    await a;
    context.leave();
    await sleep(25);
    expect(context.switchedOn).toBe(true); // b still runs
    await b;
    context.leave();
    expect(context.switchedOn).toBe(true);
    await sleep(40);
    expect(context.switchedOn).toBe(false);
    const again = await context.run(handle('c'), async () => {
      await sleep(1);
      return context.current()?.resources[0];
    });
    context.leave();
    expect(again).toBe('c');
  });
});
