import { LockOptionsError } from './lock.errors';

/** Longest resource name accepted, in characters. */
export const MAX_RESOURCE_LENGTH = 512;

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

/** Checks and copies the resources of one call; throws {@link LockOptionsError} naming the bad one. */
export function checkResources(resources: string | readonly string[]): string[] {
  const list = typeof resources === 'string' ? [resources] : resources;
  if (!Array.isArray(list) || list.length === 0) {
    throw new LockOptionsError('resources', 'must be a non-empty string or a non-empty array of strings');
  }
  const seen = new Set<string>();
  list.forEach((r: unknown, i) => {
    const path = typeof resources === 'string' ? 'resource' : `resources[${i}]`;
    if (typeof r !== 'string' || r.trim() === '') throw new LockOptionsError(path, 'must be a non-empty string');
    if (r.length > MAX_RESOURCE_LENGTH) {
      throw new LockOptionsError(path, `must be at most ${MAX_RESOURCE_LENGTH} characters`);
    }
    if (/^(fence|sem):/.test(r)) throw new LockOptionsError(path, '"fence:" and "sem:" are reserved prefixes');
    if (seen.has(r)) throw new LockOptionsError(path, `"${r}" is listed twice`);
    seen.add(r);
  });
  return [...list];
}

/** On Cluster, every resource of one call must hash to the same slot: same derived tag. */
export function checkSameSlot(resources: readonly string[]): void {
  const tags = new Set(resources.map((r) => hashTagOf(taggedResource(r))));
  if (tags.size > 1) {
    throw new LockOptionsError(
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
      throw new LockOptionsError(
        'resources',
        `template "${template}": argument {${index}${path}} is ${value === '' ? 'empty' : typeof value === 'object' && value !== null ? 'an object' : String(value)}`,
      );
    }
    return String(value);
  });
}

/** Checks one duration argument: a positive (or non-negative) integer number of milliseconds. */
export function checkDuration(name: string, value: unknown, allowZero: boolean): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new LockOptionsError(
      name,
      `must be a ${allowZero ? 'non-negative' : 'positive'} integer number of milliseconds, got ${String(value)}`,
    );
  }
}
