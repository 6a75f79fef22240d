import { ConfigurableModuleBuilder } from '@nestjs/common';
import { RedisConfigError } from '../redis/redis.errors';
import { SESSION_MODULE_OPTIONS } from './session.constants';
import type { SessionModuleExtras, SessionModuleOptions } from './session.options';
import { SessionUserLookup } from './session-user.lookup';

/** Built by ConfigurableModuleBuilder: `forRoot` / `forRootAsync` with typed options and the user lookup as an extra. */
export const {
  ConfigurableModuleClass: SessionConfigurableModule,
  OPTIONS_TYPE: SESSION_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SESSION_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SessionModuleOptions>({ optionsInjectionToken: SESSION_MODULE_OPTIONS })
  .setClassMethodName('forRoot')
  .setExtras<SessionModuleExtras>(
    { isGlobal: true, userLookup: undefined, lookupImports: [] },
    (definition, extras) => {
      if (!extras.userLookup)
        throw new RedisConfigError('session.userLookup', 'give the class that implements SessionUserLookup');
      return {
        ...definition,
        global: extras.isGlobal,
        imports: [...(definition.imports ?? []), ...(extras.lookupImports ?? [])],
        providers: [...(definition.providers ?? []), { provide: SessionUserLookup, useClass: extras.userLookup }],
      };
    },
  )
  .build();
