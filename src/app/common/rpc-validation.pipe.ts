import { ValidationPipe } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';

/**
 * Validation of `@MessagePattern` / `@EventPattern` payloads (class-validator DTOs): a refused payload becomes an
 * RPC error `{ status: 'error', code: 'INVALID', message }` the caller gets (an event's is retried, then
 * dead-lettered with it), where the HTTP pipe's 400 would reach the caller as an anonymous internal error.
 */
export function rpcValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    exceptionFactory: (errors) =>
      new RpcException({
        status: 'error',
        code: 'INVALID',
        message: errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ') || 'invalid payload',
      }),
  });
}
