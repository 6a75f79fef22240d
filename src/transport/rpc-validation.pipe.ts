import { ValidationPipe, type ValidationError, type ValidationPipeOptions } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import type { RpcErrorShape } from './transport.replies';

/** The error a caller of `send()` gets (and a dead letter records) when {@link rpcValidationPipe} refuses a payload. */
export interface RpcValidationErrorShape extends RpcErrorShape {
  /** Always `INVALID`: the payload was refused before the handler ran. */
  code: 'INVALID';
  /** Every broken constraint, `<path> <constraint message>`, nested properties by their dotted path. */
  errors: string[];
}

/** The constraint messages of `errors` and of their children, nested ones prefixed with their parent's path. */
function constraintMessages(errors: ValidationError[], parentPath = ''): string[] {
  return errors.flatMap((e) => {
    const path = parentPath ? `${parentPath}.${e.property}` : '';
    const own = Object.values(e.constraints ?? {}).map((m) => (path ? `${parentPath}.${m}` : m));
    return [...own, ...constraintMessages(e.children ?? [], path || e.property)];
  });
}

/**
 * A `ValidationPipe` for `@MessagePattern` / `@EventPattern` handlers (class-validator DTOs, `transform: true` unless
 * `options` say otherwise) whose refusals are `RpcException`s of {@link RpcValidationErrorShape}: a `send()` caller
 * gets `{ status: 'error', code: 'INVALID', message, errors }` (Nest's HTTP pipe would throw a `BadRequestException`,
 * which reaches an RPC caller as an anonymous internal error); a refused event is retried, then dead-lettered with
 * that reason. Use it per handler (`@UsePipes(rpcValidationPipe())`) or for a microservice (`useGlobalPipes`).
 */
export function rpcValidationPipe(options: Omit<ValidationPipeOptions, 'exceptionFactory'> = {}): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    ...options,
    exceptionFactory: (errors: ValidationError[]) => {
      const messages = constraintMessages(errors);
      const shape: RpcValidationErrorShape = {
        status: 'error',
        code: 'INVALID',
        message: messages.join('; ') || 'invalid payload',
        errors: messages,
      };
      return new RpcException(shape);
    },
  });
}
