import type { WritePacket } from '@nestjs/microservices';

/** The error shape of Nest's RPC exception filter: what a caller gets for an unknown error. */
export interface RpcErrorShape {
  /** Always `error`. */
  status: 'error';
  /** What went wrong. */
  message: string;
}

/** A final error reply carrying `message` (Nest's RPC error shape). */
export function errorReply(message: string): WritePacket {
  return { err: { status: 'error', message } satisfies RpcErrorShape, isDisposed: true };
}

/**
 * An `Error` for any thrown value: kept when it is one; Nest's error objects (`{ status, message }`, an
 * `RpcException`'s object) as their JSON text, so a dead letter records the whole reason.
 */
export function toError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'object' && err !== null) {
    try {
      return new Error(JSON.stringify(err));
    } catch {
      return new Error(String(err));
    }
  }
  return new Error(String(err));
}

/** JSON text of a reply: `{ e, r, d }` (error, response, done); an `Error` travels as Nest's RPC error shape. */
export function encodeReply(packet: WritePacket): string {
  if (packet.err === undefined && packet.isDisposed && packet.response !== undefined) {
    // The common reply, a handler's one value: the same text without the object around it.
    try {
      const r = JSON.stringify(packet.response) as string | undefined;
      return r === undefined ? '{"d":1}' : `{"r":${r},"d":1}`;
    } catch (err) {
      return encodeFailure(err);
    }
  }
  const out: { e?: unknown; r?: unknown; d?: 1 } = {};
  if (packet.err !== undefined) {
    out.e =
      packet.err instanceof Error
        ? ({ status: 'error', message: packet.err.message } satisfies RpcErrorShape)
        : packet.err;
  }
  if (packet.response !== undefined) out.r = packet.response;
  if (packet.isDisposed) out.d = 1;
  try {
    return JSON.stringify(out);
  } catch (err) {
    return encodeFailure(err);
  }
}

/** The final error reply of a reply that JSON cannot carry (a BigInt, a cycle). */
function encodeFailure(err: unknown): string {
  return JSON.stringify({
    e: { status: 'error', message: `the reply could not be encoded: ${toError(err).message}` },
    d: 1,
  });
}

/** The packet of a reply written by {@link encodeReply}; a broken text becomes an error reply. */
export function decodeReply(text: string): WritePacket {
  try {
    const o = JSON.parse(text) as { e?: unknown; r?: unknown; d?: 1 };
    const packet: WritePacket = {};
    if (o.e !== undefined) packet.err = o.e;
    if (o.r !== undefined) packet.response = o.r;
    if (o.d === 1) packet.isDisposed = true;
    return packet;
  } catch {
    return errorReply('the reply could not be decoded');
  }
}
