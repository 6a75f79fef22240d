import { UseGuards, type CanActivate } from '@nestjs/common';
import { ApplicationConfig, type ExternalContextCreator } from '@nestjs/core';
import type { AnyMethod, DecoratedMethod } from '../core/method-decorators';
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
  handle(payload: unknown): unknown {
    return payload;
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
const toContext = (second: string) => ({ transport: 'pubsub', messageId: second }) as unknown as MessageContext;

describe('MessagePipeline', () => {
  it('calls a handler directly when nothing would run around it', () => {
    const { contexts, created } = creator(new ApplicationConfig());
    const direct = jest.fn();
    expect(new MessagePipeline(contexts).handler(target(new Plain()), direct, toContext)).toBe(direct);
    expect(created).toHaveLength(0);
  });

  it('builds the pipeline for a global enhancer, a method enhancer or parameter decorators', async () => {
    const withGlobal = new ApplicationConfig();
    withGlobal.addGlobalPipe({ transform: (v: unknown) => v });
    for (const [config, instance, key] of [
      [withGlobal, new Plain(), 'nest-redis-kit:messaging:legacy-params'],
      [new ApplicationConfig(), new Guarded(), 'nest-redis-kit:messaging:legacy-params'],
      [new ApplicationConfig(), new Decorated(), '__routeArguments__'],
    ] as const) {
      const { contexts, created, run } = creator(config);
      const handler = new MessagePipeline(contexts).handler(target(instance), jest.fn(), toContext);
      await handler({ n: 1 }, 'm-1');
      expect(created[0][3]).toBe(key);
      expect(created[0][8]).toBe(MESSAGE_CONTEXT_TYPE);
      expect(run).toHaveBeenCalledWith({ n: 1 }, { transport: 'pubsub', messageId: 'm-1' }, 'm-1');
    }
  });
});
