import type { WritePacket } from '@nestjs/microservices';
import type { OpenSpan, SpanStart } from '../core/tracing';

/** How a request's span starts: OpenTelemetry RPC conventions (`rpc.system` is the library's transport). */
export function rpcSpanStart(kind: 'client' | 'server', service: string, pattern: string): SpanStart {
  return {
    kind,
    attributes: { 'rpc.system': 'nest_redis_streams', 'rpc.service': service, 'rpc.method': pattern },
  };
}

/**
 * A request's reply callback that also ends its span (tracing on): with the last reply (`isDisposed`) or the error
 * (a failed handler, a timeout). Without a span, the callback itself.
 */
export function endWithReplies(
  span: OpenSpan | undefined,
  callback: (packet: WritePacket) => void,
): (packet: WritePacket) => void {
  if (!span) return callback;
  return (packet) => {
    if (packet.err !== undefined && packet.err !== null) span.end(packet.err);
    else if (packet.isDisposed) span.end();
    callback(packet);
  };
}
