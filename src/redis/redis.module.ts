import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LibraryMethodExplorer } from '../core/method-explorer';
import { DEFAULT_REDIS_CLIENT, REDIS_CONNECTIONS, REDIS_MODULE_OPTIONS, getRedisClientToken } from './redis.constants';
import { RedisConnections } from './redis.connections';
import { RedisHealthIndicator } from './redis.health';
import { requestedClientNames } from './inject-redis.decorator';
import {
  RedisConfigurableModule,
  type REDIS_ASYNC_OPTIONS_TYPE,
  type REDIS_OPTIONS_TYPE,
} from './redis.module-definition';
import type { RedisModuleOptions } from './redis.options';
import { RedisService } from './redis.service';
import { resolveRedisModuleOptions } from './redis.validation';

const connectionsProvider: Provider = {
  provide: REDIS_CONNECTIONS,
  inject: [REDIS_MODULE_OPTIONS],
  useFactory: async (options: RedisModuleOptions): Promise<RedisConnections> => {
    const connections = new RedisConnections(resolveRedisModuleOptions(options));
    await connections.connectAll();
    return connections;
  },
};

/** Properties Nest itself reads on every provider (lifecycle hooks, discovery); a missing client must not throw on them. */
const NEST_PROBED_PROPERTIES = new Set([
  'then',
  'constructor',
  'onModuleInit',
  'onApplicationBootstrap',
  'onModuleDestroy',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
]);

function clientProviders(names: Iterable<string>): Provider[] {
  return [...new Set(names)].map((name) => ({
    provide: getRedisClientToken(name),
    inject: [RedisService],
    useFactory: (redis: RedisService) => {
      if (redis.listConnections().some((c) => c.name === name)) return redis.getClient(name);
      // Asked for by @InjectRedis somewhere but not configured: fail where it is used, with the reason.
      return new Proxy(
        {},
        {
          get: (_target, property) => {
            if (typeof property === 'symbol' || NEST_PROBED_PROPERTIES.has(property)) return undefined;
            return redis.getClient(name);
          },
        },
      );
    },
  }));
}

/**
 * The shared Redis provider (global by default). Makes every connection of the application, waits for
 * them at startup, reports them in health checks and closes them last on shutdown. Also hosts the library's one
 * method explorer, which wires the method decorators every feature contributes (`@WithLock`, `@Cacheable`...).
 */
@Module({
  imports: [TerminusModule, DiscoveryModule],
  providers: [RedisService, RedisHealthIndicator, LibraryMethodExplorer],
  exports: [RedisService, RedisHealthIndicator],
})
export class RedisModule extends RedisConfigurableModule {
  /** Configures the clients from static options. */
  static override forRoot(options: typeof REDIS_OPTIONS_TYPE = {}): DynamicModule {
    const names = [DEFAULT_REDIS_CLIENT, ...Object.keys(options.clients ?? {}), ...requestedClientNames];
    return extend(super.forRoot(options), names);
  }

  /** Configures the clients from a factory (e.g. ConfigService). Client names come from `@InjectRedis` uses and `clientNames`. */
  static override forRootAsync(options: typeof REDIS_ASYNC_OPTIONS_TYPE & { clientNames?: string[] }): DynamicModule {
    const { clientNames = [], ...rest } = options;
    return extend(super.forRootAsync(rest), [DEFAULT_REDIS_CLIENT, ...clientNames, ...requestedClientNames]);
  }
}

function extend(definition: DynamicModule, names: string[]): DynamicModule {
  const named = clientProviders(names);
  return {
    ...definition,
    providers: [...(definition.providers ?? []), connectionsProvider, ...named],
    exports: [
      ...(definition.exports ?? []),
      RedisService,
      RedisHealthIndicator,
      REDIS_CONNECTIONS,
      ...named.map((p) => (p as { provide: string }).provide),
    ],
  };
}
