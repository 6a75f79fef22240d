import { randomUUID } from 'node:crypto';

/** Headers carried by every message; `traceId` is always present. */
export interface MessageHeaders {
  /** Correlates the message with the request or message that caused it (generated when missing). */
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

/** Builds an envelope, generating the id, timestamp and (when missing) a trace id. */
export function createEnvelope<T>(type: string, payload: T, headers?: Partial<MessageHeaders>): MessageEnvelope<T> {
  let clean: MessageHeaders | undefined;
  if (headers) {
    const h: Record<string, string> = {};
    for (const k of Object.keys(headers)) if (typeof headers[k] === 'string') h[k] = headers[k];
    if (h.traceId) clean = h as MessageHeaders;
    else clean = { ...h, traceId: newTraceId() };
  }
  return {
    id: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    payload,
    headers: clean ?? { traceId: newTraceId() },
  };
}

/** A new trace id: 32 hex characters (W3C trace-context size), from Node's pooled UUID generator. */
export function newTraceId(): string {
  const u = randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18) + u.slice(19, 23) + u.slice(24);
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
