import type { ParamData, PipeTransform, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import type { ParamsFactory } from '@nestjs/core';
import type { MessageContext } from './message-context';

/**
 * The parameter kinds of a message handler, stored under Nest's route-arguments metadata key (as every Nest
 * context does, each with its own numbers). `payload` and `context` use the numbers of `@nestjs/microservices`'
 * `@Payload()` / `@Ctx()`; `legacy` is the second argument a handler without parameter decorators always got.
 */
export const MESSAGE_PARAM = { payload: 3, context: 6, legacy: 1003 } as const;

/** The arguments Nest's pipeline sees for a message: `[payload, context, legacy second argument]`. */
export type MessageArgs = [payload: unknown, context: MessageContext, legacy: unknown];

/** One stored parameter, in the shape Nest's `ExternalContextCreator` reads. */
interface ParamEntry {
  index: number;
  data?: ParamData;
  pipes: Array<PipeTransform | Type<PipeTransform>>;
}

/** Parameter metadata of one method: `<kind>:<index>` → entry. */
export type MessageParamsMetadata = Record<string, ParamEntry>;

function storeParam(kind: number, data: ParamData | undefined, pipes: Array<PipeTransform | Type<PipeTransform>>) {
  return (target: object, key: string | symbol | undefined, index: number): void => {
    if (key === undefined) return; // a constructor parameter: not a handler
    const host = target.constructor;
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, host, key) as MessageParamsMetadata | undefined) ?? {};
    Reflect.defineMetadata(ROUTE_ARGS_METADATA, { ...args, [`${kind}:${index}`]: { index, data, pipes } }, host, key);
  };
}

/**
 * The message payload (validated by the handler's `dto` option when it has one), through the application's
 * pipes: a global `ValidationPipe` validates it against the parameter's class, and pipes given here run after the
 * global, class and method ones. `@MessagePayload('orderId')` gives one property of it.
 * A handler with no parameter decorator keeps its `(payload, envelope | message)` signature.
 * @param propertyOrPipe a property of the payload to give instead of the whole payload, or a first pipe
 */
export function MessagePayload(
  propertyOrPipe?: string | PipeTransform | Type<PipeTransform>,
  ...pipes: Array<PipeTransform | Type<PipeTransform>>
): ParameterDecorator {
  return typeof propertyOrPipe === 'string' || propertyOrPipe === undefined
    ? storeParam(MESSAGE_PARAM.payload, propertyOrPipe, pipes)
    : storeParam(MESSAGE_PARAM.payload, undefined, [propertyOrPipe, ...pipes]);
}

/**
 * The {@link MessageContext} of the message being handled: message id, headers and trace id, attempt, the
 * channel (and pattern) of a pub/sub message or the stream, group and entry id of a stream message.
 * Type the parameter with `MessageContext` (or `StreamMessageContext` / `PubSubMessageContext`).
 */
export function MessageCtx(): ParameterDecorator {
  return storeParam(MESSAGE_PARAM.context, undefined, []);
}

/** The parameters of a handler without parameter decorators: `(payload, envelope | message)` as always. */
export const LEGACY_MESSAGE_PARAMS: MessageParamsMetadata = {
  [`${MESSAGE_PARAM.payload}:0`]: { index: 0, pipes: [] },
  [`${MESSAGE_PARAM.legacy}:1`]: { index: 1, pipes: [] },
};

/** Metadata key under which a handler without parameter decorators gets {@link LEGACY_MESSAGE_PARAMS}. */
export const LEGACY_PARAMS_METADATA = 'nest-redis-kit:messaging:legacy-params';

/** Turns a stored parameter kind into its value for one message (`args` = {@link MessageArgs}). */
export const messageParamsFactory: ParamsFactory = {
  exchangeKeyForValue(type: number, data: ParamData, args: MessageArgs): unknown {
    switch (type) {
      case MESSAGE_PARAM.payload: {
        const payload = args[0];
        return data !== undefined && typeof payload === 'object' && payload !== null
          ? (payload as Record<string, unknown>)[String(data)]
          : payload;
      }
      case MESSAGE_PARAM.context:
        return args[1];
      case MESSAGE_PARAM.legacy:
        return args[2];
      default:
        return undefined;
    }
  },
};
