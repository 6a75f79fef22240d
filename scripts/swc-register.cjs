/* eslint-disable @typescript-eslint/no-require-imports, no-undef -- plain CommonJS require hook run by node */
// Lets plain `node` run the TypeScript sources (benchmarks, child-process fixtures):
// `node -r ./scripts/swc-register.cjs bench/redis.bench.ts`. Same swc settings as jest.config.js.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    module: { type: 'commonjs' },
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
      transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
      keepClassNames: true,
    },
  });
  module._compile(code, filename);
};
