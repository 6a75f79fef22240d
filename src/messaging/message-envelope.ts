import { randomBytes, randomUUID } from 'node:crypto';

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
export function createEnvelope<T>(type: string, payload: T, headers: Partial<MessageHeaders> = {}): MessageEnvelope<T> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') clean[k] = v;
  return {
    id: randomUUID(),
    type,
    occurredAt: new Date().toISOString(),
    payload,
    headers: { ...clean, traceId: clean.traceId ?? randomBytes(16).toString('hex') },
  };
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
