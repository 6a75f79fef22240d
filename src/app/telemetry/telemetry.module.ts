import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { shutdownTelemetry } from './telemetry';

/** Flushes the buffered spans when the application shuts down (after every module closed). */
@Injectable()
export class TelemetryShutdown implements OnApplicationShutdown {
  /** Called by Nest last: the spans of the shutdown itself are exported too. */
  async onApplicationShutdown(): Promise<void> {
    await shutdownTelemetry();
  }
}

/** Part of every process of the reference service: flushes OpenTelemetry's spans on shutdown (nothing when off). */
@Module({ providers: [TelemetryShutdown] })
export class TelemetryModule {}
