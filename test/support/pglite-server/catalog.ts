/**
 * The databases of the embedded test server, by name. `postgres` exists from the start (its instance is made on
 * first use); CREATE DATABASE makes a new, empty PGlite instance from a template (a fresh cluster made once and
 * dumped, so each new database loads in well under a second instead of running initdb); DROP DATABASE closes it.
 * The template is kept in node_modules/.cache (one file per PGlite version), so only the first run makes it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EmbeddedDatabase, type PGliteInstance } from './database';

/** The global WebAssembly API (not in this project's TypeScript lib): compiles PGlite's module once. */
declare const WebAssembly: { compile(bytes: Uint8Array): Promise<object> };

/** A CREATE/DROP DATABASE that failed, with its SQLSTATE. */
export class CatalogError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class Catalog {
  private readonly databases = new Map<string, EmbeddedDatabase>();
  private readonly module: Promise<object>;
  private readonly template: Promise<Blob>;
  private readonly templateFile: string;

  constructor() {
    const dist = dirname(require.resolve('@electric-sql/pglite'));
    const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8')) as { version: string };
    this.templateFile = join(dist, '..', '..', '..', '.cache', 'nest-redis-kit', `pglite-${version}-template.tar`);
    // Compiled once, shared by every instance (compiling per instance costs time and memory).
    this.module = WebAssembly.compile(readFileSync(join(dist, 'pglite.wasm')));
    this.template = this.makeTemplate();
    this.template.catch(() => undefined); // reported to whoever needs it
    this.add('postgres');
  }

  /** The database of that name, or undefined. */
  get(name: string): EmbeddedDatabase | undefined {
    return this.databases.get(name);
  }

  /** CREATE DATABASE: a new empty database, ready when this resolves. */
  async create(name: string): Promise<void> {
    if (this.databases.has(name)) throw new CatalogError('42P04', `database "${name}" already exists`);
    const db = this.add(name);
    try {
      await db.instance();
    } catch (err) {
      this.databases.delete(name);
      throw new CatalogError('58000', `could not create database "${name}": ${(err as Error).message}`);
    }
  }

  /**
   * DROP DATABASE (always WITH (FORCE)): forgets the name at once, `disconnect` closes its clients' connections,
   * then the instance is closed once its current turn is over. False when there was no such database.
   */
  async drop(name: string, disconnect: (db: EmbeddedDatabase) => void): Promise<boolean> {
    const db = this.databases.get(name);
    if (!db) return false;
    this.databases.delete(name);
    disconnect(db);
    await db.close();
    return true;
  }

  /** Closes every database. */
  async closeAll(): Promise<void> {
    const all = [...this.databases.values()];
    this.databases.clear();
    await Promise.all(all.map((db) => db.close()));
  }

  private add(name: string): EmbeddedDatabase {
    const db = new EmbeddedDatabase(name, () => this.openInstance());
    this.databases.set(name, db);
    return db;
  }

  private async makeTemplate(): Promise<Blob> {
    if (existsSync(this.templateFile)) return new Blob([readFileSync(this.templateFile)]);
    const { PGlite } = await import('@electric-sql/pglite');
    const fresh = await PGlite.create({ pgliteWasmModule: (await this.module) as never });
    let dump: Blob;
    try {
      dump = await fresh.dumpDataDir('none');
    } finally {
      await fresh.close();
    }
    try {
      mkdirSync(dirname(this.templateFile), { recursive: true });
      const partial = `${this.templateFile}.${process.pid}`;
      writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
      renameSync(partial, this.templateFile);
    } catch {
      // no cache this time: the next run makes the template again
    }
    return dump;
  }

  private async openInstance(): Promise<PGliteInstance> {
    const { PGlite } = await import('@electric-sql/pglite');
    return PGlite.create({ loadDataDir: await this.template, pgliteWasmModule: (await this.module) as never });
  }
}
