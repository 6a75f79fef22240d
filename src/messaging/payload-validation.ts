import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { MessageValidationError } from './messaging.errors';

/** A class with class-validator decorators describing a payload. */
export type PayloadDto<T = object> = new (...args: never[]) => T;

/** Turns a plain payload into an instance of `dto` and validates it; throws {@link MessageValidationError}. */
export async function validatePayload<T extends object>(
  type: string,
  dto: PayloadDto<T>,
  payload: unknown,
): Promise<T> {
  if (typeof payload !== 'object' || payload === null)
    throw new MessageValidationError(type, ['payload must be an object']);
  const instance = plainToInstance(dto as new () => T, payload);
  const errors = await validate(instance, { whitelist: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    throw new MessageValidationError(
      type,
      errors.flatMap((e) => Object.values(e.constraints ?? { [e.property]: `${e.property} is invalid` })),
    );
  }
  return instance;
}
