import { Writable } from 'node:stream';
import type { RedisClient } from '../redis/redis.options';
import { batchWritesThisTick, batchWritesWhileBusy } from './tick-writes';

/** A socket stand-in that records each write it makes (one `_writev` for many corked chunks). */
function recordingSocket() {
  const writes: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      writes.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      writes.push(chunks.map((c) => String(c.chunk)));
      cb();
    },
  });
  return { stream, writes };
}

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('batchWritesThisTick', () => {
  it("sends the writes of one tick's promise continuations in one write, on the next tick", async () => {
    const { stream, writes } = recordingSocket();
    const client = { isCluster: false, stream } as unknown as RedisClient;
    const send = async (cmd: string) => {
      await Promise.resolve(); // a caller's continuation, as after a reply
      batchWritesThisTick(client);
      stream.write(cmd);
    };
    await Promise.all(['a', 'b', 'c'].map(send));
    expect(writes).toEqual([]); // still corked: the nextTick has not run
    await tick();
    expect(writes).toEqual([['a', 'b', 'c']]);
    expect(stream.writableCorked).toBe(0);

    batchWritesThisTick(client); // a lone caller: one write of its own
    stream.write('d');
    await tick();
    expect(writes).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('writes every 8 commands within a tick, so Redis starts on the first ones while the next are built', async () => {
    const { stream, writes } = recordingSocket();
    const client = { isCluster: false, stream } as unknown as RedisClient;
    const commands = Array.from({ length: 20 }, (_, i) => `c${i}`);
    for (const cmd of commands) {
      batchWritesThisTick(client);
      stream.write(cmd);
    }
    expect(writes.map((w) => w.length)).toEqual([8, 8]); // the last 4 wait for the end of the tick
    await tick();
    expect(writes.map((w) => w.length)).toEqual([8, 8, 4]);
    expect(writes.flat()).toEqual(commands);
    expect(stream.writableCorked).toBe(0);
  });

  it("first-8: writes a tick's first 8 commands at once and the rest at the end of the tick", async () => {
    const { stream, writes } = recordingSocket();
    const client = { isCluster: false, stream } as unknown as RedisClient;
    const commands = Array.from({ length: 20 }, (_, i) => `c${i}`);
    for (const cmd of commands) {
      batchWritesThisTick(client, 'first-8');
      stream.write(cmd);
    }
    expect(writes.map((w) => w.length)).toEqual([8]); // the other 12 wait for the end of the tick
    await tick();
    expect(writes.map((w) => w.length)).toEqual([8, 12]);
    expect(writes.flat()).toEqual(commands);
    expect(stream.writableCorked).toBe(0);
  });

  it('corks every node of a Cluster, and skips a connection that is not writable', async () => {
    const one = recordingSocket();
    const two = recordingSocket();
    const closed = recordingSocket();
    closed.stream.destroy();
    const cluster = {
      isCluster: true,
      nodes: () => [{ stream: one.stream }, { stream: two.stream }, { stream: closed.stream }, { stream: undefined }],
    } as unknown as RedisClient;
    batchWritesThisTick(cluster);
    batchWritesThisTick(cluster);
    one.stream.write('1a');
    two.stream.write('2a');
    one.stream.write('1b');
    expect(one.stream.writableCorked).toBe(1); // once per tick, however many calls
    await tick();
    expect(one.writes).toEqual([['1a', '1b']]);
    expect(two.writes).toEqual([['2a']]);
  });
});

describe('batchWritesWhileBusy', () => {
  it('writes a command at once while nothing is in flight, and batches it once replies are awaited', async () => {
    const { stream, writes } = recordingSocket();
    const commandQueue: string[] = [];
    const client = { isCluster: false, stream, commandQueue } as unknown as RedisClient;
    const send = (cmd: string) => {
      batchWritesWhileBusy(client);
      stream.write(cmd);
      commandQueue.push(cmd); // ioredis queues a written command until its reply
    };
    send('alone');
    expect(writes).toEqual([['alone']]); // not corked: written before the tick ends
    send('b');
    send('c');
    expect(writes).toEqual([['alone']]); // 'alone' awaits its reply: the others wait for the end of the tick
    await tick();
    expect(writes).toEqual([['alone'], ['b', 'c']]);
  });
});
