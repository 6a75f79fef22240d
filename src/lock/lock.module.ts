import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { LockExplorer } from './lock.explorer';
import { LockMetrics } from './lock.metrics';
import { LockConfigurableModule } from './lock.module-definition';
import { LockService } from './lock.service';
import { SemaphoreService } from './semaphore.service';

/**
 * Distributed locks on the shared Redis provider (or on independent nodes): `LockService` and `@WithLock`; counting
 * semaphores (`SemaphoreService`, N holders, on the shared client).
 * Needs RedisModule. `LockModule.forRoot({ nodes: [...] })` for a Redlock quorum of independent servers.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [LockService, SemaphoreService, LockExplorer, LockMetrics],
  exports: [LockService, SemaphoreService],
})
export class LockModule extends LockConfigurableModule {}
