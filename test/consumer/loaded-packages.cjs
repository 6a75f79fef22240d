'use strict';
/**
 * Loads one nest-redis-kit entry (argv[2], e.g. `nest-redis-kit/cache`) in this fresh process and prints the npm
 * packages it loaded, as one line `LOADED <json array>` (every module loaded through require(), ES modules loaded by
 * require() included, is in require.cache). Run by test/consumer.e2e-spec.ts in the installed consumer project.
 */
require(process.argv[2]);
const packages = new Set();
for (const file of Object.keys(require.cache)) {
  const match = /.*node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(file);
  if (match) packages.add(match[1].replace(/\\/g, '/'));
}
process.stdout.write(`LOADED ${JSON.stringify([...packages].sort())}\n`);
