/**
 * The few pieces of the PostgreSQL frontend/backend protocol (version 3) that the embedded test server needs:
 * splitting a connection's bytes into messages, and building the backend messages it answers by itself
 * (startup, CREATE/DROP DATABASE, errors). Everything else is passed to PGlite unchanged.
 */

/** Protocol version 3.0 in a StartupMessage. */
const PROTOCOL_3_0 = 196_608;
/** SSLRequest code: answered with `N` (no TLS on loopback). */
const SSL_REQUEST = 80_877_103;
/** GSSENCRequest code: answered with `N`. */
const GSSENC_REQUEST = 80_877_104;
/** CancelRequest code: not supported, the connection is closed. */
const CANCEL_REQUEST = 80_877_102;

/** A message sent before the startup is done (no type byte). */
export type StartupPacket =
  | { kind: 'ssl' | 'gssenc' | 'cancel' }
  | { kind: 'startup'; params: Record<string, string> }
  | { kind: 'unsupported'; code: number };

/** One frontend message after startup: its type byte and its whole bytes (type, length, body). */
export interface FrontendMessage {
  /** Type byte as a character: `Q`, `P`, `B`, `E`, `S`, `X`... */
  type: string;
  /** The complete message, ready to be passed on. */
  bytes: Buffer;
}

/** Reads one startup-phase packet from the front of `buf`; undefined until it is complete. */
export function readStartupPacket(buf: Buffer): { packet: StartupPacket; size: number } | undefined {
  if (buf.length < 8) return undefined;
  const size = buf.readInt32BE(0);
  if (buf.length < size) return undefined;
  const code = buf.readInt32BE(4);
  if (code === SSL_REQUEST) return { packet: { kind: 'ssl' }, size };
  if (code === GSSENC_REQUEST) return { packet: { kind: 'gssenc' }, size };
  if (code === CANCEL_REQUEST) return { packet: { kind: 'cancel' }, size };
  if (code !== PROTOCOL_3_0) return { packet: { kind: 'unsupported', code }, size };
  const params: Record<string, string> = {};
  const fields = buf.subarray(8, size).toString('utf8').split('\0');
  for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) params[fields[i]] = fields[i + 1];
  return { packet: { kind: 'startup', params }, size };
}

/** Reads one regular message from the front of `buf`; undefined until it is complete. */
export function readMessage(buf: Buffer): FrontendMessage | undefined {
  if (buf.length < 5) return undefined;
  const size = 1 + buf.readInt32BE(1);
  if (buf.length < size) return undefined;
  return { type: String.fromCharCode(buf[0]), bytes: buf.subarray(0, size) };
}

/** The SQL text of a simple Query (`Q`) message. */
export function queryText(message: FrontendMessage): string {
  return message.bytes.subarray(5, message.bytes.length - 1).toString('utf8');
}

/** A backend message: type byte, int32 length, body. */
function backend(type: string, body: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const cstring = (s: string) => Buffer.from(`${s}\0`, 'utf8');

/** A frontend message (for the server's own clean-up requests to PGlite): `S` Sync or `Q` Query. */
export function frontend(type: 'S' | 'Q', text?: string): Buffer {
  return backend(type, text === undefined ? undefined : cstring(text));
}

/** AuthenticationOk, the ParameterStatus lines a client expects, BackendKeyData and ReadyForQuery(idle). */
export function startupReply(parameters: Record<string, string>, processId: number): Buffer {
  const key = Buffer.alloc(8);
  key.writeInt32BE(processId, 0);
  key.writeInt32BE(processId, 4);
  return Buffer.concat([
    backend('R', Buffer.from([0, 0, 0, 0])),
    ...Object.entries(parameters).map(([k, v]) => backend('S', Buffer.concat([cstring(k), cstring(v)]))),
    backend('K', key),
    readyForQuery('I'),
  ]);
}

/** ReadyForQuery with a transaction status: `I` idle, `T` in a transaction, `E` in a failed transaction. */
export function readyForQuery(status: 'I' | 'T' | 'E'): Buffer {
  return backend('Z', Buffer.from(status, 'latin1'));
}

/** CommandComplete with its tag (`CREATE DATABASE`). */
export function commandComplete(tag: string): Buffer {
  return backend('C', cstring(tag));
}

/** ErrorResponse with a severity, SQLSTATE code and message. */
export function errorResponse(severity: 'ERROR' | 'FATAL', code: string, message: string): Buffer {
  return backend(
    'E',
    Buffer.concat([
      Buffer.from('S'),
      cstring(severity),
      Buffer.from('V'),
      cstring(severity),
      Buffer.from('C'),
      cstring(code),
      Buffer.from('M'),
      cstring(message),
      Buffer.from([0]),
    ]),
  );
}

/**
 * The transaction status of the last ReadyForQuery in a backend reply, or undefined when the reply has none
 * (a batch that ended in Flush: the extended query is still open).
 */
export function lastReadyStatus(reply: Uint8Array): 'I' | 'T' | 'E' | undefined {
  let status: 'I' | 'T' | 'E' | undefined;
  const view = Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength);
  for (let at = 0; at + 5 <= view.length; at += 1 + view.readInt32BE(at + 1)) {
    if (view[at] === 0x5a /* Z */) status = String.fromCharCode(view[at + 5]) as 'I' | 'T' | 'E';
  }
  return status;
}
