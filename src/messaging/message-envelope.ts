import { randomUUID } from 'node:crypto';
import { traceIdOfTraceparent } from '../core/tracing';
import { rememberLast } from './remember-last';

/**
 * Headers carried by every message; `traceId` is always present. With tracing on, `traceparent` / `tracestate`
 * (W3C trace context) are there too.
 */
export interface MessageHeaders {
  /**
   * Correlates the message with the request or message that caused it; when missing: the W3C trace id of
   * `traceparent`, else the message's own id.
   */
  traceId: string;
  /** Any other string header. */
  [name: string]: string;
}

/** The JSON envelope of every pub/sub message and stream entry. */
export interface MessageEnvelope<T = unknown> {
  /** Unique message id (UUID). */
  id: string;
  /** The app-facing channel or stream name, e.g. `order.confirmed` (no key prefix). */
  type: string;
  /** When the message was created, ISO-8601. */
  occurredAt: string;
  /** The message body. */
  payload: T;
  /** Trace id and other headers. */
  headers: MessageHeaders;
}

let lastMs = 0;
let lastIso = '';

/** ISO-8601 time of now, computed once per millisecond. */
function nowIso(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

/**
 * Builds an envelope, generating the id and timestamp. Without a `traceId` header, the trace id of a `traceparent`
 * header is the trace id, else the message starts a new trace and its own id is the trace id.
 */
export function createEnvelope<T>(type: string, payload: T, headers?: Partial<MessageHeaders>): MessageEnvelope<T> {
  const id = randomUUID();
  let clean: MessageHeaders | undefined;
  if (headers) {
    const h: Record<string, string> = {};
    for (const k of Object.keys(headers)) if (typeof headers[k] === 'string') h[k] = headers[k];
    if (!h.traceId) h.traceId = traceIdOfTraceparent(h.traceparent) ?? id;
    clean = h as MessageHeaders;
  }
  return { id, type, occurredAt: nowIso(), payload, headers: clean ?? { traceId: id } };
}

/** JSON text of a message type, the last one remembered (messages mostly come in runs of one type). */
const typeJson = rememberLast((type) => JSON.stringify(type));

/** True when `headers` holds `traceId` only, equal to `id` (what {@link createEnvelope} makes without headers). */
function onlyOwnTraceId(headers: MessageHeaders, id: string): boolean {
  if (headers.traceId !== id) return false;
  for (const key in headers) if (key !== 'traceId') return false;
  return true;
}

/** JSON text of an envelope made by {@link createEnvelope} (same result as JSON.stringify, a little faster). */
export function encodeEnvelope(envelope: MessageEnvelope): string {
  const headers = onlyOwnTraceId(envelope.headers, envelope.id)
    ? `{"traceId":"${envelope.id}"}`
    : JSON.stringify(envelope.headers);
  return `{"id":"${envelope.id}","type":${typeJson(envelope.type)},"occurredAt":"${envelope.occurredAt}","payload":${
    JSON.stringify(envelope.payload) ?? 'null'
  },"headers":${headers}}`;
}

/** Parses an envelope; throws a readable error when the text is not JSON or not an envelope. */
export function parseEnvelope(text: string): MessageEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`message is not valid JSON: ${(err as Error).message}`);
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as MessageEnvelope).id !== 'string' ||
    typeof (value as MessageEnvelope).type !== 'string' ||
    !('payload' in value)
  ) {
    throw new Error('message is not an envelope {id, type, occurredAt, payload, headers}');
  }
  const env = value as MessageEnvelope;
  if (typeof env.headers !== 'object' || env.headers === null) env.headers = { traceId: '' };
  return env;
}
