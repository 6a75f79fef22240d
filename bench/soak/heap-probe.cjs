/**
 * Soak-only preload (node --expose-gc -r bench/soak/heap-probe.cjs): on the parent's `soak:heap` IPC message, a full
 * garbage collection, then the process's heap and RSS. A leak is what survives a full collection; a sample taken
 * anywhere on the garbage collector's saw-tooth would say more about the collector's timing than about the code.
 * On `{ soakSnapshot: <file> }`, a full collection and then a heap snapshot written to that file (for
 * heap-diff.cjs), answered with `{ soakSnapshot: <file> }`.
 */
'use strict';

const v8 = require('node:v8');

process.on('message', (message) => {
  if (!process.send) return;
  if (message === 'soak:heap') {
    if (typeof global.gc === 'function') global.gc();
    const usage = process.memoryUsage();
    process.send({ soakHeap: { heapUsedBytes: usage.heapUsed, rssBytes: usage.rss } });
    return;
  }
  const file = message && typeof message === 'object' ? message.soakSnapshot : undefined;
  if (typeof file === 'string') {
    if (typeof global.gc === 'function') global.gc();
    v8.writeHeapSnapshot(file);
    process.send({ soakSnapshot: file });
  }
});
// The channel must not keep the process alive once the app has shut down.
process.channel?.unref();
