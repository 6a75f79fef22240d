/* eslint-disable @typescript-eslint/no-require-imports, no-undef -- plain CommonJS require hook run by node */
// Lets plain `node` run the TypeScript sources (benchmarks, child-process test fixtures):
// `node -r ./scripts/swc-register.cjs bench/redis.bench.ts`. Same swc options as Jest (scripts/swc.options.cjs).
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');
const swcOptions = require('./swc.options.cjs');

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...swcOptions, filename });
  module._compile(code, filename);
};
