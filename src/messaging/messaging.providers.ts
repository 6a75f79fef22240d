import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Provider } from '@nestjs/common';
import { MESSAGING_MODULE_OPTIONS } from './messaging.constants';
import { resolveMessagingOptions, type MessagingModuleOptions } from './messaging.options';

/** Injection token of the validated options (internal). */
export const MESSAGING_RESOLVED_OPTIONS = 'nest-redis-kit:messaging:resolved-options';

/** Validates the module options once, at startup. */
export const resolvedOptionsProvider: Provider = {
  provide: MESSAGING_RESOLVED_OPTIONS,
  inject: [MESSAGING_MODULE_OPTIONS],
  useFactory: (options: MessagingModuleOptions) =>
    resolveMessagingOptions(options ?? {}, `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`),
};
