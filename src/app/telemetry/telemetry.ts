/**
 * OpenTelemetry for the reference service and its worker: the Node SDK, started only when an OTLP endpoint is
 * configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); otherwise nothing of it is
 * loaded. The SDK reads the standard variables (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_PROTOCOL`,
 * `OTEL_TRACES_SAMPLER`, `OTEL_BSP_SCHEDULE_DELAY`...). `telemetry.start.ts` calls {@link startTelemetry} before
 * Nest, express or ioredis are loaded, so that their instrumentations apply.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Options of {@link startTelemetry}. */
export interface TelemetryOptions {
  /** `service.name` when `OTEL_SERVICE_NAME` is not set. */
  serviceName?: string;
  /** Where spans go instead of the OTLP exporter of the environment (tests: an in-memory exporter); starts the SDK without an endpoint. */
  spanProcessors?: SpanProcessor[];
}

/** The started SDK, as far as shutdown needs it. */
interface RunningSdk {
  shutdown(): Promise<void>;
}

let running: RunningSdk | undefined;

/** True when the environment asks for traces: an OTLP endpoint is set and the SDK is not disabled. */
export function telemetryWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.OTEL_SDK_DISABLED === 'true') return false;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the OpenTelemetry Node SDK (OTLP exporter, HTTP and express instrumentations) when wanted or when span
 * processors are given; true when it runs. Nothing is loaded when it does not start.
 */
export function startTelemetry(options: TelemetryOptions = {}): boolean {
  if (running) return true;
  if (!options.spanProcessors && !telemetryWanted()) return false;
  // Loaded only here: without an endpoint the SDK packages are never required.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startSdk } = require('./telemetry.sdk') as typeof import('./telemetry.sdk');
  running = startSdk(options);
  return true;
}

/** Flushes the spans still buffered and stops the SDK (no-op when it did not start). */
export async function shutdownTelemetry(): Promise<void> {
  const sdk = running;
  running = undefined;
  await sdk?.shutdown();
}
