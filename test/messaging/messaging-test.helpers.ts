import { Injectable, type Provider, type Type } from '@nestjs/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { Test, type TestingModule } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { RedisModule, type RedisModuleOptions } from '../../src/redis';
import { MessagingModule, type MessagingModuleOptions } from '../../src/messaging';

/** A payload DTO of the messaging suites: `{ sku: string, qty: integer >= 1 }`. */
export class OrderDto {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  qty!: number;
}

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

/**
 * Starts a fixture process (`node -r scripts/swc-register.cjs <fixture> ...args`) and resolves once it prints
 * `ready`; rejects (with its stderr) when it exits first or is not ready within 30 s.
 * @param fixture path of the fixture file
 */
export function startReadyChild(fixture: string, args: string[]): Promise<ChildProcess> {
  const root = join(__dirname, '../..');
  const child = spawn(process.execPath, ['-r', join(root, 'scripts/swc-register.cjs'), fixture, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${fixture} did not start: ${err}`)), 30_000);
    child.stdout?.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${fixture} exited with ${String(code)}: ${err}`));
    });
  });
}
