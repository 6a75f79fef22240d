// `npm run bench` runs every bench/*.bench.ts, `npm run bench -- redis cache` only those; each in its own
// node process (TypeScript through scripts/swc-register.cjs). Exits 1 when any benchmark fails or misses
// a target. BENCH_DURATION_MS shortens every case.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const available = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  .sort((a, b) => (a === 'redis' ? -1 : b === 'redis' ? 1 : a.localeCompare(b)));
const names = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const n of names) {
  if (!existsSync(join(root, 'bench', `${n}.bench.ts`))) {
    console.error(`no benchmark "${n}" (bench/${n}.bench.ts); available: ${available.join(', ')}`);
    process.exit(2);
  }
}
const failed = [];
for (const name of names.length ? names : available) {
  console.log(`\n### bench ${name}`);
  const r = spawnSync(process.execPath, ['-r', './scripts/swc-register.cjs', `bench/${name}.bench.ts`], {
    cwd: root,
    stdio: 'inherit',
  });
  if (r.status !== 0) failed.push(name);
}
if (failed.length) {
  console.error(`\nfailed or missed a target: ${failed.join(', ')}`);
  process.exit(1);
}
