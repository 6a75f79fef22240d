import { Injectable, type Provider, type Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { RedisModule, type RedisModuleOptions } from '../../src/redis';
import { MessagingModule, type MessagingModuleOptions } from '../../src/messaging';

/** Collects what handlers saw, one instance per test app. */
@Injectable()
export class Recorder {
  readonly items: unknown[] = [];
  private waiters: Array<() => void> = [];

  push(item: unknown): void {
    this.items.push(item);
    for (const w of this.waiters) w();
  }

  /** Resolves once `predicate` holds, rejects after `timeoutMs`. */
  async until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what} (have ${this.items.length} items)`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
      this.waiters = [];
    }
  }
}

/** Polls `fn` until it returns true; throws after `timeoutMs`. */
export async function eventually(
  fn: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A Nest application context with RedisModule + MessagingModule and the given handler providers. */
export async function createMessagingApp(
  redis: RedisModuleOptions,
  messaging: MessagingModuleOptions,
  providers: Array<Type | Provider> = [],
): Promise<TestingModule> {
  const ref = await Test.createTestingModule({
    imports: [RedisModule.forRoot(redis), MessagingModule.forRoot(messaging)],
    providers: [Recorder, ...providers],
  }).compile();
  ref.useLogger(false);
  await ref.init();
  return ref;
}
