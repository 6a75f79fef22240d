import { UseGuards, type CanActivate } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig, type ExternalContextCreator, type ModulesContainer } from '@nestjs/core';
import type { AnyMethod, DecoratedMethod } from '../core/method-decorators';
import { RedisConfigError } from '../redis/redis.errors';
import { MESSAGE_CONTEXT_TYPE, type MessageContext } from './message-context';
import { MessageCtx, MessagePayload } from './message-params.decorator';
import { MessagePipeline } from './message-pipeline';

const allow: CanActivate = { canActivate: () => true };

class Plain {
  handle(payload: unknown): unknown {
    return payload;
  }
}

class Guarded {
  @UseGuards(allow)
  handle(payload: unknown, second: unknown): unknown {
    return [payload, second];
  }
}

class Decorated {
  handle(@MessagePayload() payload: unknown, @MessageCtx() ctx: MessageContext): unknown {
    return [payload, ctx];
  }
}

/** A context creator that records what it was asked to build, with the application's config as Nest keeps it. */
function creator(config: ApplicationConfig) {
  const created: unknown[][] = [];
  const run = jest.fn((...args: unknown[]) => Promise.resolve(args));
  const contexts = {
    container: { applicationConfig: config },
    create: (...args: unknown[]) => {
      created.push(args);
      return run;
    },
  } as unknown as ExternalContextCreator;
  return { contexts, created, run };
}

const target = (instance: object): DecoratedMethod => ({
  instance,
  methodName: 'handle',
  label: `${instance.constructor.name}.handle`,
  original: (instance as { handle: AnyMethod }).handle,
});
/** The modules of an application whose only provider is `instance` (none: `instance` is a controller's). */
const modulesWith = (...instances: object[]) =>
  new Map([
    ['app', { providers: new Map(instances.map((instance, i) => [i, { instance }])) }],
  ]) as unknown as ModulesContainer;
const toContext = (second: string) => ({ transport: 'pubsub', messageId: second }) as unknown as MessageContext;

describe('MessagePipeline', () => {
  it('calls a handler directly when nothing would run around it', () => {
    const { contexts, created } = creator(new ApplicationConfig());
    const direct = jest.fn();
    const instance = new Plain();
    const pipeline = new MessagePipeline(contexts, modulesWith(instance));
    expect(pipeline.handler('@OnMessage', target(instance), direct, toContext)).toBe(direct);
    expect(created).toHaveLength(0);
  });

  it('builds the pipeline for a global enhancer, a method enhancer or parameter decorators', async () => {
    const withGlobal = new ApplicationConfig();
    withGlobal.addGlobalPipe({ transform: (v: unknown) => v });
    for (const [config, instance, key] of [
      [withGlobal, new Plain(), 'nest-redis-kit:messaging:legacy-params'],
      [new ApplicationConfig(), new Guarded(), undefined],
      [new ApplicationConfig(), new Decorated(), '__routeArguments__'],
    ] as const) {
      const { contexts, created, run } = creator(config);
      const pipeline = new MessagePipeline(contexts, modulesWith(instance));
      const handler = pipeline.handler('@OnMessage', target(instance), jest.fn(), toContext);
      await handler({ n: 1 }, 'm-1');
      expect(created[0][3]).toBe(key);
      expect(created[0][8]).toBe(MESSAGE_CONTEXT_TYPE);
      expect(run).toHaveBeenCalledWith({ n: 1 }, { transport: 'pubsub', messageId: 'm-1' }, 'm-1');
    }
  });

  it('gives Nest, for a handler without parameters nor pipes, a (payload, ctx, second) → (payload, second) call', () => {
    const { contexts, created } = creator(new ApplicationConfig());
    const instance = new Guarded();
    new MessagePipeline(contexts, modulesWith(instance)).handler('@OnMessage', target(instance), jest.fn(), toContext);
    const call = created[0][1] as AnyMethod;
    expect(call).not.toBe(Guarded.prototype.handle);
    expect(call.name).toBe('handle');
    expect(Reflect.getMetadata(GUARDS_METADATA, call)).toEqual([allow]); // what guards and Reflector read
    expect(call.call(instance, { n: 1 }, toContext('m-1'), 'second')).toEqual([{ n: 1 }, 'second']);
  });

  it('refuses a handler on a controller with class or method enhancers (they would be skipped)', () => {
    const { contexts } = creator(new ApplicationConfig());
    const pipeline = new MessagePipeline(contexts, modulesWith());
    expect(() => pipeline.handler('@OnMessage', target(new Guarded()), jest.fn(), toContext)).toThrow(
      new RedisConfigError(
        '@OnMessage(Guarded.handle)',
        'is on a controller, whose guards, interceptors, pipes and filters Nest resolves only for HTTP routes; ' +
          'move the message handler to a provider',
      ),
    );
    // without enhancers of its own, a controller's handler is fine (global enhancers need no module)
    expect(() => pipeline.handler('@OnMessage', target(new Decorated()), jest.fn(), toContext)).not.toThrow();
  });
});
