import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';

/**
 * The service's global ValidationPipe: DTOs are validated and transformed, unknown properties refused, every
 * message returned. Route parameters are left as the strings they arrived as, for their own parse pipes
 * (ParseIdPipe, ParseIntPipe), which refuse `1e3`, `0x10` or ` 12 `: the stock pipe converts them with `+value`
 * first, which reads `/users/1e3` as user 1000.
 */
export class AppValidationPipe extends ValidationPipe {
  constructor() {
    super({ whitelist: true, forbidNonWhitelisted: true, transform: true, stopAtFirstError: false });
  }

  /** Query values are converted as usual; route parameters are not (see the class comment). */
  protected override transformPrimitive(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'param') return value;
    return super.transformPrimitive(value, metadata);
  }
}
