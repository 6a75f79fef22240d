/**
 * Soak-only preload (node --expose-gc -r bench/soak/heap-probe.cjs): on the parent's `soak:heap` IPC message, a full
 * garbage collection, then the process's heap and RSS. A leak is what survives a full collection; a sample taken
 * anywhere on the garbage collector's saw-tooth would say more about the collector's timing than about the code.
 */
'use strict';

process.on('message', (message) => {
  if (message !== 'soak:heap' || !process.send) return;
  if (typeof global.gc === 'function') global.gc();
  const usage = process.memoryUsage();
  process.send({ soakHeap: { heapUsedBytes: usage.heapUsed, rssBytes: usage.rss } });
});
// The channel must not keep the process alive once the app has shut down.
process.channel?.unref();
