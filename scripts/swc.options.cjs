/* eslint-disable no-undef -- plain CommonJS, read by jest.config.js and scripts/swc-register.cjs */
// The one set of swc options that turns our TypeScript (Nest decorators + metadata) into CommonJS:
// used by Jest (@swc/jest) and by the require hook that lets plain `node` run benchmarks and test fixtures.
module.exports = {
  sourceMaps: 'inline',
  module: { type: 'commonjs' },
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
};
