/**
 * Stream names of the transport (app-facing names, turned into keys by `streamKey`: `<prefix>msg:stream:{<name>}`).
 * Each name is its own hash tag, so a stream and its dead-letter stream share a Cluster slot, and the streams of
 * different patterns, services and clients spread over the slots.
 */

/** Stream of the events of one pattern: `evt:<pattern>`; each service reads it in its own consumer group. */
export function eventStreamName(pattern: string): string {
  return `evt:${pattern}`;
}

/** Stream of the requests to one service: `rpc:<service>`, read by the service's group (one instance answers). */
export function requestStreamName(service: string): string {
  return `rpc:${service}`;
}

/** Reply stream of one client instance: `reply:<client id>`. */
export function replyStreamName(clientId: string): string {
  return `reply:${clientId}`;
}

/** True for a reply stream name as a client writes it (a request cannot make a server write anywhere else). */
export function isReplyStreamName(name: string): boolean {
  return /^reply:[^\s{}]+$/.test(name);
}
