import type { SubscriptionKind } from './pubsub-mode';
import { SubscriptionRegistry, type Registration, type SubscriptionBackend } from './subscription.registry';

/** A backend whose SUBSCRIBEs the test settles by hand, recording every call. */
class ManualBackend implements SubscriptionBackend {
  ready = true;
  readonly calls: string[] = [];
  private readonly waiting: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];

  subscribe(kind: SubscriptionKind, key: string): Promise<void> {
    this.calls.push(`sub ${kind}:${key}`);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  unsubscribe(kind: SubscriptionKind, keys: string[]): Promise<void> {
    this.calls.push(`unsub ${kind}:${keys.join(',')}`);
    return Promise.resolve();
  }

  confirm(): void {
    this.waiting.shift()?.resolve();
  }

  fail(err: Error): void {
    this.waiting.shift()?.reject(err);
  }
}

const reg = (label: string): Registration => ({ handler: () => undefined, label });
const tick = () => new Promise((r) => setImmediate(r));

describe('SubscriptionRegistry', () => {
  it('resolves only once Redis confirmed, concurrent callers sharing one SUBSCRIBE', async () => {
    const backend = new ManualBackend();
    const registry = new SubscriptionRegistry(backend);
    const resolved: string[] = [];
    const a = registry.add('channel', 'k', reg('a')).then((off) => (resolved.push('a'), off));
    const b = registry.add('channel', 'k', reg('b')).then((off) => (resolved.push('b'), off));
    await tick();
    expect(resolved).toEqual([]);
    expect(backend.calls).toEqual(['sub channel:k']);
    backend.confirm();
    await Promise.all([a, b]);
    expect(resolved.sort()).toEqual(['a', 'b']);
    expect([...(registry.handlersOf('channel:k') ?? [])].map((r) => r.label)).toEqual(['a', 'b']);
    // A later caller of a confirmed subscription does not ask Redis again.
    await registry.add('channel', 'k', reg('c'));
    expect(backend.calls).toEqual(['sub channel:k']);
  });

  it('forgets a failed subscription: its handlers are dropped and the next caller asks Redis again', async () => {
    const backend = new ManualBackend();
    const registry = new SubscriptionRegistry(backend);
    const first = registry.add('pattern', 'p.*', reg('a'));
    const second = registry.add('pattern', 'p.*', reg('b'));
    backend.fail(new Error('down'));
    await expect(first).rejects.toThrow('down');
    await expect(second).rejects.toThrow('down');
    expect(registry.handlersOf('pattern:p.*')).toBeUndefined();
    const again = registry.add('pattern', 'p.*', reg('c'));
    await tick();
    expect(backend.calls).toEqual(['sub pattern:p.*', 'sub pattern:p.*']);
    backend.confirm();
    await again;
    expect([...(registry.handlersOf('pattern:p.*') ?? [])].map((r) => r.label)).toEqual(['c']);
  });

  it('unsubscribes in Redis when the last handler leaves, then subscribes anew', async () => {
    const backend = new ManualBackend();
    const registry = new SubscriptionRegistry(backend);
    const pending = [registry.add('channel', 'k', reg('a')), registry.add('channel', 'k', reg('b'))];
    backend.confirm();
    const [offA, offB] = await Promise.all(pending);
    await offA();
    await offA(); // twice: no effect
    expect(backend.calls).toEqual(['sub channel:k']);
    await offB();
    expect(backend.calls).toEqual(['sub channel:k', 'unsub channel:k']);
    expect(registry.handlersOf('channel:k')).toBeUndefined();
    const next = registry.add('channel', 'k', reg('c'));
    await tick();
    expect(backend.calls).toHaveLength(3);
    backend.confirm();
    await next;
  });

  it('close() forgets every handler and unsubscribes each kind in one call, within its bound', async () => {
    const backend = new ManualBackend();
    const registry = new SubscriptionRegistry(backend);
    const pending = [
      registry.add('channel', 'a', reg('a')),
      registry.add('channel', 'b', reg('b')),
      registry.add('pattern', 'p.*', reg('p')),
    ];
    backend.confirm();
    backend.confirm();
    backend.confirm();
    await Promise.all(pending);
    backend.unsubscribe = (kind, keys) => {
      backend.calls.push(`unsub ${kind}:${keys.join(',')}`);
      return new Promise(() => undefined); // never answered
    };
    const started = Date.now();
    await registry.close(50);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(backend.calls.slice(3)).toEqual(['unsub channel:a,b', 'unsub pattern:p.*']);
    expect(registry.handlersOf('channel:a')).toBeUndefined();
  });

  it('close() sends nothing when the connection is not ready', async () => {
    const backend = new ManualBackend();
    const registry = new SubscriptionRegistry(backend);
    const added = registry.add('channel', 'a', reg('a'));
    backend.confirm();
    await added;
    backend.ready = false;
    await registry.close(50);
    expect(backend.calls).toEqual(['sub channel:a']);
  });
});
