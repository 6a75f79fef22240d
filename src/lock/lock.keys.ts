import { lockArguments } from './lock.options';

/** Longest resource name accepted, in characters. */
export const MAX_RESOURCE_LENGTH = 512;

/** Resource names may not start with these: they name the feature's other keys. */
const RESERVED_RESOURCE = /^(fence|sem):/;

/**
 * Every Redis key locks and semaphores write, under `<prefix>lock:` (`prefix` is RedisModule's key prefix):
 * - `<prefix>lock:{<resource>}`: a lock (its value: the holder's id, with the lease as TTL);
 * - `<prefix>lock:fence:{<resource>}`: the fencing counter of a resource;
 * - `<prefix>lock:sem:{<name>}`: a semaphore (a sorted set of permits).
 *
 * Every key carries the resource's hash tag ({@link taggedResource}), so a resource's lock and fence key share a
 * Cluster slot, and so do the resources of one lock that share a tag.
 */
export class LockKeys {
  /** @param prefix the feature's prefix, `<RedisModule keyPrefix>lock:` */
  constructor(readonly prefix: string) {}

  /** The lock key of `resource`. */
  lock(resource: string): string {
    return this.prefix + taggedResource(resource);
  }

  /** The fencing counter of `resource`. */
  fence(resource: string): string {
    return `${this.prefix}fence:${taggedResource(resource)}`;
  }

  /** The sorted set of the semaphore `name`. */
  semaphore(name: string): string {
    return `${this.prefix}sem:${taggedResource(name)}`;
  }
}

/**
 * The hash-tagged form of a resource. A resource that already contains a non-empty `{tag}` keeps it (so that
 * `{order:42}:a` and `{order:42}:b` share a Cluster slot); any other resource is wrapped whole: `{inventory:abc}`.
 */
export function taggedResource(resource: string): string {
  return hashTagOf(resource) !== undefined ? resource : `{${resource}}`;
}

/** The Cluster hash tag of a key (the text between the first `{` and the next `}`), if non-empty. */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return key.slice(open + 1, close);
}

/** Checks and copies the resources of one call; throws `LockOptionsError` naming the bad one. */
export function checkResources(resources: string | readonly string[]): string[] {
  if (typeof resources === 'string') {
    checkResource('resource', resources);
    return [resources];
  }
  const list = typeof resources === 'string' ? [resources] : resources;
  if (!Array.isArray(list) || list.length === 0) {
    lockArguments.fail('resources', 'must be a non-empty string or a non-empty array of strings');
  }
  const seen = new Set<string>();
  list.forEach((r: unknown, i) => {
    const path = `resources[${i}]`;
    checkResource(path, r);
    if (seen.has(r)) lockArguments.fail(path, `"${r}" is listed twice`);
    seen.add(r);
  });
  return [...list];
}

/** Checks one resource name; throws `LockOptionsError` naming it by `path`. */
function checkResource(path: string, r: unknown): asserts r is string {
  if (typeof r !== 'string' || r.trim() === '') lockArguments.fail(path, 'must be a non-empty string');
  if (r.length > MAX_RESOURCE_LENGTH) lockArguments.fail(path, `must be at most ${MAX_RESOURCE_LENGTH} characters`);
  if (RESERVED_RESOURCE.test(r)) lockArguments.fail(path, '"fence:" and "sem:" are reserved prefixes');
}

/** On Cluster, every resource of one call must hash to the same slot: same derived tag. */
export function checkSameSlot(resources: readonly string[]): void {
  const tags = new Set(resources.map((r) => hashTagOf(taggedResource(r))));
  if (tags.size > 1) {
    lockArguments.fail(
      'resources',
      `on Redis Cluster the resources of one lock must share a hash tag (got ${[...tags].map((t) => `{${t}}`).join(', ')}); ` +
        `name them e.g. "{order:42}:a", "{order:42}:b"`,
    );
  }
}

/**
 * Fills a `@WithLock` template from the method's arguments: `{0}` is the first argument, `{1.sku}` the `sku`
 * property of the second. A missing or empty value is an error (never a lock on "undefined").
 */
export function renderTemplate(template: string, args: readonly unknown[]): string {
  return template.replace(/\{(\d+)((?:\.[A-Za-z_$][\w$]*)*)\}/g, (_match, index: string, path: string) => {
    let value: unknown = args[Number(index)];
    for (const part of path.split('.').filter(Boolean)) {
      value = value === null || value === undefined ? undefined : (value as Record<string, unknown>)[part];
    }
    if (value === undefined || value === null || value === '' || typeof value === 'object') {
      const what = value === '' ? 'empty' : typeof value === 'object' && value !== null ? 'an object' : String(value);
      lockArguments.fail('resources', `template "${template}": argument {${index}${path}} is ${what}`);
    }
    return String(value);
  });
}
