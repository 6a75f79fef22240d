import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { TelemetryOptions } from './telemetry';

/** Probes and scrapes: frequent and uninteresting, no trace. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|$|\?)/;

/**
 * The Node SDK of the reference service: spans of incoming and outgoing HTTP (the request's span is the root of
 * everything the request does: cache, lock, messages) and of express routes, exported by OTLP (protocol from
 * `OTEL_EXPORTER_OTLP_PROTOCOL`: `http/protobuf` by default, `http/json` or `grpc`), W3C trace context and baggage.
 * The library's own spans come through `@opentelemetry/api` once this SDK is registered.
 */
export function startSdk(options: TelemetryOptions): NodeSDK {
  const sdk = new NodeSDK({
    ...(process.env.OTEL_SERVICE_NAME || !options.serviceName ? {} : { serviceName: options.serviceName }),
    ...(options.spanProcessors ? { spanProcessors: options.spanProcessors } : {}),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.test(req.url ?? '') }),
      new ExpressInstrumentation(),
    ],
  });
  sdk.start();
  return sdk;
}
