import { Injectable, Logger, Scope, SetMetadata, UseGuards, type CanActivate } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { Test } from '@nestjs/testing';
import {
  MethodDecoratorHandlerProvider,
  type AnyMethod,
  type DecoratedMethod,
  type MethodDecoratorHandler,
} from './method-decorators';
import { LibraryMethodExplorer } from './method-explorer';

const calls: string[] = [];

/** A wrapping test decorator that records entering and leaving. */
function wrapping(key: string, order: number) {
  @MethodDecoratorHandlerProvider()
  @Injectable()
  class Handler implements MethodDecoratorHandler<string> {
    readonly decorator = `@${key}`;
    readonly metadataKey = key;
    readonly order = order;
    validate(meta: string, target: DecoratedMethod): void {
      if (meta === 'bad') throw new Error(`${this.decorator} on ${target.label}: bad`);
    }
    wrap(next: AnyMethod, meta: string): AnyMethod {
      return async function (this: unknown, ...args: unknown[]) {
        calls.push(`${meta}>`);
        const result = await next.apply(this, args);
        calls.push(`<${meta}`);
        return result;
      };
    }
  }
  return Handler;
}

const Outer = wrapping('outer', 100);
const Inner = wrapping('inner', 400);

@MethodDecoratorHandlerProvider()
@Injectable()
class Listener implements MethodDecoratorHandler<string> {
  readonly decorator = '@Listen';
  readonly metadataKey = 'listen';
  readonly order = 1000;
  readonly bound: Array<{ method: AnyMethod; meta: string; label: string }> = [];
  bind(method: AnyMethod, meta: string, target: DecoratedMethod): void {
    this.bound.push({ method, meta, label: target.label });
  }
}

class AllowAll implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

@Injectable()
class Service {
  readonly name = 'svc';
  // Written inner first: the composition order must not depend on it.
  @SetMetadata('inner', 'cache')
  @SetMetadata('outer', 'lock')
  @SetMetadata('listen', 'channel')
  @UseGuards(AllowAll)
  async both(x: number): Promise<string> {
    calls.push(`body ${x} ${this.name}`);
    return `r${x}`;
  }

  @SetMetadata('outer', 'lock')
  @SetMetadata('inner', 'cache')
  async reversed(): Promise<string> {
    calls.push('body');
    return 'ok';
  }

  plain(): string {
    return 'plain';
  }
}

@Injectable({ scope: Scope.REQUEST })
class PerRequest {
  @SetMetadata('outer', 'lock')
  async work(): Promise<void> {}
}

async function boot(providers: unknown[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [LibraryMethodExplorer, Outer, Inner, Listener, ...(providers as never[])],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('LibraryMethodExplorer', () => {
  beforeEach(() => calls.splice(0));

  it('composes every library decorator of a method in the fixed order, whatever order they were written in', async () => {
    const app = await boot([Service]);
    const svc = app.get(Service);
    await expect(svc.both(1)).resolves.toBe('r1');
    expect(calls).toEqual(['lock>', 'cache>', 'body 1 svc', '<cache', '<lock']);
    calls.splice(0);
    await svc.reversed();
    expect(calls).toEqual(['lock>', 'cache>', 'body', '<cache', '<lock']);
    expect(svc.plain()).toBe('plain');
    await app.close();
  });

  it('hands listeners the fully wrapped method bound to its instance', async () => {
    const app = await boot([Service]);
    const listener = app.get(Listener);
    expect(listener.bound).toHaveLength(1);
    expect(listener.bound[0]).toMatchObject({ meta: 'channel', label: 'Service.both' });
    await expect(listener.bound[0].method(2)).resolves.toBe('r2');
    expect(calls).toEqual(['lock>', 'cache>', 'body 2 svc', '<cache', '<lock']);
    await app.close();
  });

  it('keeps the metadata of the original on the wrapper (guards, other decorators) and its name', async () => {
    const app = await boot([Service]);
    const wrapped = app.get(Service).both;
    expect(Reflect.getMetadata(GUARDS_METADATA, wrapped)).toEqual([AllowAll]);
    expect(Reflect.getMetadata('outer', wrapped)).toBe('lock');
    expect(wrapped.name).toBe('both');
    await app.close();
  });

  it('wraps a method once even when the explorer is initialised again', async () => {
    const app = await boot([Service]);
    app.get(LibraryMethodExplorer).onModuleInit();
    await app.get(Service).reversed();
    expect(calls).toEqual(['lock>', 'cache>', 'body', '<cache', '<lock']);
    await app.close();
  });

  it('fails startup with the handler error when metadata is unusable', async () => {
    @Injectable()
    class Bad {
      @SetMetadata('outer', 'bad')
      async work(): Promise<void> {}
    }
    await expect(boot([Bad])).rejects.toThrow('@outer on Bad.work: bad');
  });

  it('warns about library decorators on a request-scoped provider instead of skipping them silently', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const app = await boot([PerRequest]);
    expect(warn).toHaveBeenCalledWith(
      expect.stringMatching(/@outer on PerRequest\.work ignored: the provider is request-scoped/),
    );
    warn.mockRestore();
    await app.close();
  });
});
