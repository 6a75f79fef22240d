/**
 * A responder process for the transport's crash test:
 * `node -r ./scripts/swc-register.cjs responder.fixture.ts '<RedisModule connection JSON>' <keyPrefix>`.
 * Serves service `slowsvc`; its `slow` handler records the request in Redis (SADD `<prefix>started`), then never
 * answers. Prints `ready` once listening.
 */
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, type AsyncMicroserviceOptions } from '@nestjs/microservices';
import { RedisModule, RedisService, type RedisModuleOptions } from '../../src/redis';
import { MessagingModule } from '../../src/messaging';
import { RedisStreamsServer, RedisStreamsTransportModule } from '../../src/transport';

const [connection, keyPrefix] = process.argv.slice(2);

@Controller()
class SlowController {
  constructor(private readonly redis: RedisService) {}

  @MessagePattern('slow')
  async slow(@Payload() payload: { n: number }): Promise<string> {
    await this.redis.getClient().sadd(`${keyPrefix}started`, String(payload.n));
    await new Promise((r) => setTimeout(r, 60_000));
    return 'too late';
  }
}

@Module({
  imports: [
    RedisModule.forRoot({ ...(JSON.parse(connection) as RedisModuleOptions), keyPrefix }),
    MessagingModule.forRoot({ consumerName: `child-${process.pid}` }),
    RedisStreamsTransportModule.forRoot({ service: 'slowsvc' }),
  ],
  controllers: [SlowController],
})
class ResponderModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(ResponderModule, {
    inject: [RedisStreamsServer],
    useFactory: (strategy: RedisStreamsServer) => ({ strategy }),
    logger: ['error'],
  });
  await app.listen();
  process.stdout.write('ready\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
