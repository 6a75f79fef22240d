/**
 * One client connection of the embedded test server: answers the startup itself (no authentication on loopback),
 * then collects the client's messages into batches that end in Sync, Query or Flush and runs each batch on the
 * database named in the startup. `CREATE DATABASE` and `DROP DATABASE` sent as simple queries are done by the
 * catalog; Terminate closes the connection.
 */
import type { Socket } from 'node:net';
import { Catalog, CatalogError } from './catalog';
import type { EmbeddedDatabase } from './database';
import {
  commandComplete,
  errorResponse,
  queryText,
  readMessage,
  readStartupPacket,
  readyForQuery,
  startupReply,
  type FrontendMessage,
} from './wire';

/** What a client sees in ParameterStatus at startup (the values PGlite runs with). */
const SERVER_PARAMETERS: Record<string, string> = {
  server_version: '18.6',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  DateStyle: 'ISO, MDY',
  TimeZone: 'UTC',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
};

/** Message types that end a batch: Sync, simple Query, Flush, FunctionCall. */
const BATCH_END = new Set(['S', 'Q', 'H', 'F']);

const CREATE_DATABASE = /^\s*CREATE\s+DATABASE\s+"?([a-z_][a-z0-9_]*)"?\s*;?\s*$/i;
const DROP_DATABASE =
  /^\s*DROP\s+DATABASE\s+(IF\s+EXISTS\s+)?"?([a-z_][a-z0-9_]*)"?(\s+WITH\s*\(\s*FORCE\s*\))?\s*;?\s*$/i;

let nextProcessId = 1_000;

export class Connection {
  private buffer = Buffer.alloc(0);
  private started = false;
  private database: EmbeddedDatabase | undefined;
  private pending: Buffer[] = [];
  /** Batches run one after the other, in the order the client sent them. */
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly catalog: Catalog,
    private readonly connections: Set<Connection>,
  ) {
    connections.add(this);
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** The database this connection uses (after startup). */
  get databaseName(): string | undefined {
    return this.database?.name;
  }

  /** Closes the socket; the database rolls back what this connection left open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connections.delete(this);
    this.socket.destroy();
    this.database?.leave(this).catch(() => undefined);
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (!this.closed) {
      if (!this.started) {
        const read = readStartupPacket(this.buffer);
        if (!read) return;
        this.buffer = this.buffer.subarray(read.size);
        this.startup(read.packet);
        continue;
      }
      const message = readMessage(this.buffer);
      if (!message) return;
      this.buffer = this.buffer.subarray(message.bytes.length);
      this.collect(message);
    }
  }

  private startup(packet: NonNullable<ReturnType<typeof readStartupPacket>>['packet']): void {
    if (packet.kind === 'ssl' || packet.kind === 'gssenc') {
      this.socket.write('N');
      return;
    }
    if (packet.kind !== 'startup') {
      if (packet.kind === 'unsupported') {
        this.socket.write(errorResponse('FATAL', '0A000', `unsupported frontend protocol ${packet.code}`));
      }
      this.close();
      return;
    }
    const name = packet.params.database ?? packet.params.user ?? 'postgres';
    const db = this.catalog.get(name);
    if (!db) {
      this.socket.write(errorResponse('FATAL', '3D000', `database "${name}" does not exist`));
      this.close();
      return;
    }
    this.database = db;
    this.started = true;
    this.socket.write(startupReply(SERVER_PARAMETERS, nextProcessId++));
  }

  private collect(message: FrontendMessage): void {
    if (message.type === 'X') {
      this.close();
      return;
    }
    this.pending.push(message.bytes);
    if (!BATCH_END.has(message.type)) return;
    const batch = this.pending;
    this.pending = [];
    const catalogCommand = message.type === 'Q' && batch.length === 1 ? queryText(message) : undefined;
    this.chain = this.chain.then(() => this.runBatch(batch, catalogCommand)).catch(() => this.close());
  }

  private async runBatch(batch: Buffer[], sql: string | undefined): Promise<void> {
    if (this.closed) return;
    const create = sql === undefined ? null : CREATE_DATABASE.exec(sql);
    const drop = sql === undefined ? null : DROP_DATABASE.exec(sql);
    if (create || drop) {
      this.socket.write(await this.catalogCommand(create, drop));
      return;
    }
    const reply = await this.database!.run(this, Buffer.concat(batch));
    if (!this.closed) this.socket.write(reply);
  }

  private async catalogCommand(create: RegExpExecArray | null, drop: RegExpExecArray | null): Promise<Buffer> {
    try {
      if (create) {
        await this.catalog.create(create[1].toLowerCase());
        return Buffer.concat([commandComplete('CREATE DATABASE'), readyForQuery('I')]);
      }
      const name = drop![2].toLowerCase();
      if (name === this.database?.name) {
        throw new CatalogError('55006', 'cannot drop the currently open database');
      }
      const dropped = await this.catalog.drop(name, (db) => {
        for (const c of [...this.connections]) if (c.database === db) c.close();
      });
      if (!dropped && !drop![1]) throw new CatalogError('3D000', `database "${name}" does not exist`);
      return Buffer.concat([commandComplete('DROP DATABASE'), readyForQuery('I')]);
    } catch (err) {
      const code = err instanceof CatalogError ? err.code : 'XX000';
      return Buffer.concat([errorResponse('ERROR', code, (err as Error).message), readyForQuery('I')]);
    }
  }
}
