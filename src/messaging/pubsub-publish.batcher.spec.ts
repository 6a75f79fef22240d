import type { Command } from 'ioredis';
import { PUBLISH_MANY } from './messaging.scripts';
import { MAX_PUBLISH_BATCH, MAX_PUBLISH_BATCH_LENGTH, PublishBatcher } from './pubsub-publish.batcher';

/** A client that records what is sent and answers with `reply` (an Error: rejects). */
function fakeClient(reply: (name: string) => unknown = () => 1) {
  const sent: Array<{ name: string; args: unknown[] }> = [];
  const answer = (name: string, args: unknown[]): Promise<unknown> => {
    sent.push({ name, args });
    const value = reply(name);
    return value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
  };
  const client = {
    isCluster: false,
    publish: (channel: string, text: string) => answer('publish', [channel, text]),
    sendCommand: (command: Command) => {
      answer(command.name, command.args).then(
        (v) => command.resolve(v),
        (err: Error) => command.reject(err),
      );
    },
  };
  return { sent, client: client as never };
}

describe('PublishBatcher', () => {
  it('publishes a lone message with PUBLISH', async () => {
    const { sent, client } = fakeClient();
    const batcher = new PublishBatcher(() => client);
    await expect(batcher.publish('ch:a', 'one')).resolves.toBeUndefined();
    expect(sent).toEqual([{ name: 'publish', args: ['ch:a', 'one'] }]);
  });

  it('publishes the messages of one tick with one call, in order, as runs per channel; each resolves', async () => {
    const { sent, client } = fakeClient();
    const batcher = new PublishBatcher(() => client);
    const keys = ['a', 'a', 'b', 'a', 'a', 'a'];
    const results = await Promise.all(keys.map((k, i) => batcher.publish(`ch:${k}`, `m${i}`)));
    expect(results).toEqual(keys.map(() => undefined));
    expect(sent).toEqual([
      {
        name: 'evalsha',
        args: [PUBLISH_MANY.sha1, '0', 'ch:a', '2', 'm0', 'm1', 'ch:b', '1', 'm2', 'ch:a', '3', 'm3', 'm4', 'm5'],
      },
    ]);
  });

  it(`splits a tick of more than ${MAX_PUBLISH_BATCH} messages into calls sent in order`, async () => {
    const { sent, client } = fakeClient();
    const batcher = new PublishBatcher(() => client);
    const n = MAX_PUBLISH_BATCH * 2 + 1;
    await Promise.all(Array.from({ length: n }, (_, i) => batcher.publish('ch', String(i))));
    const published = sent.map(({ name, args }) => (name === 'publish' ? args.slice(1) : args.slice(4)));
    expect(published.map((texts) => texts.length)).toEqual([MAX_PUBLISH_BATCH, MAX_PUBLISH_BATCH, 1]);
    expect(published.flat()).toEqual(Array.from({ length: n }, (_, i) => String(i)));
  });

  it('starts a new call before a message that would make the call longer than its limit', async () => {
    const { sent, client } = fakeClient();
    const batcher = new PublishBatcher(() => client);
    const texts = ['a', 'b', 'c', 'd'].map((c) => c.repeat(MAX_PUBLISH_BATCH_LENGTH * 0.4));
    texts.push('e'.repeat(MAX_PUBLISH_BATCH_LENGTH + 1), 'f');
    await Promise.all(texts.map((t) => batcher.publish('ch', t)));
    expect(sent.map(({ name, args }) => [name, name === 'publish' ? args.slice(1) : args.slice(4)])).toEqual([
      ['evalsha', texts.slice(0, 2)],
      ['evalsha', texts.slice(2, 4)],
      ['publish', [texts[4]]],
      ['publish', [texts[5]]],
    ]);
  });

  it("rejects every message of a call Redis refuses with the call's error, and only those", async () => {
    const { client } = fakeClient((name) => (name === 'evalsha' ? new Error('ERR refused') : 1));
    const batcher = new PublishBatcher(() => client);
    const batch = await Promise.allSettled([batcher.publish('ch', 'x'), batcher.publish('ch', 'y')]);
    expect(batch.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.status))).toEqual([
      'ERR refused',
      'ERR refused',
    ]);
    await expect(batcher.publish('ch', 'z')).resolves.toBeUndefined();
  });
});
