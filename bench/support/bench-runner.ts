/**
 * Shared benchmark runner: every figure is a ratio against a raw baseline measured in the same process,
 * on the same server, in alternating rounds (baseline, subject, baseline, subject...) so that the noise of
 * a small shared machine hits both sides alike.
 *
 * Usage in `bench/<name>.bench.ts` (run with `npm run bench -- <name>`):
 * ```ts
 * import { runBench } from './support/bench-runner';
 * void runBench('cache', async () => {
 *   const server = await startRedis();           // set up whatever the cases need
 *   return {
 *     pairs: [{ case: 'get hit', baseline: () => raw.get(k), subject: () => store.get(k), target: 0.9 }],
 *     extras: [],                                 // optional rows measured otherwise (e.g. a ceiling)
 *     teardown: () => server.stop(),
 *   };
 * });
 * ```
 * Each pair runs `concurrency` callers (default 50) that call the operation back to back; a case runs for
 * BENCH_DURATION_MS in total (default 5000, split over `rounds`, default 10 per side); ops/s and latencies
 * are over all rounds, `ratio` is the median of the per-round subject/baseline ratios. The table goes to
 * stdout, `bench/results/<name>.json` gets `{name, cases: [{case, opsPerSec, p50Ms, p99Ms,
 * baselineOpsPerSec, ratio, target, pass}]}`; the process exits 1 when a pair misses its `target` ratio.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One operation: a call that resolves when done. */
export type BenchOp = () => Promise<unknown>;

/** A subject and the raw baseline it is compared with. */
export interface BenchPair {
  /** Row name, e.g. `GET (unpipelined)`. */
  case: string;
  /** One call of the raw baseline (e.g. a plain ioredis client). */
  baseline: BenchOp;
  /** One call through the code under test. */
  subject: BenchOp;
  /** Operations one call performs (e.g. 10 for a pipeline of 10 commands; default 1). */
  opsPerCall?: number;
  /** Concurrent callers (default: the run's concurrency). */
  concurrency?: number;
  /** Minimum subject/baseline ratio; below it the row says FAIL and the process exits 1. */
  target?: number;
}

/** A row measured by other means (e.g. `redis-benchmark` as a ceiling); printed and saved as is. */
export interface BenchExtra {
  /** Row name. */
  case: string;
  /** Throughput. */
  opsPerSec: number;
  /** Median latency, if known. */
  p50Ms?: number | null;
  /** 99th percentile latency, if known. */
  p99Ms?: number | null;
}

/** What the setup function of {@link runBench} returns. */
export interface BenchSetup {
  /** Pairs to measure, in order. */
  pairs: BenchPair[];
  /** Rows measured otherwise, computed after the pairs ran (so they do not disturb them). */
  extras?: () => Promise<BenchExtra[]>;
  /** Frees what the setup made (servers, Nest apps). */
  teardown?: () => Promise<void>;
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Concurrent callers per pair (default 50). */
  concurrency?: number;
  /** Rounds per side (default 10): baseline and subject alternate round by round (A/B, B/A, ...). */
  rounds?: number;
  /** Total time per side and pair (default BENCH_DURATION_MS or 5000). */
  durationMs?: number;
  /** Warm-up per side before measuring (default 10 % of durationMs, at most 1000 ms). */
  warmupMs?: number;
}

/** One row of the report (the JSON schema of bench/results/<name>.json). */
export interface BenchRow {
  case: string;
  opsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  baselineOpsPerSec: number | null;
  ratio: number | null;
  target?: number;
  pass?: boolean;
}

/** The saved report. */
export interface BenchReport {
  name: string;
  durationMs: number;
  concurrency: number;
  cases: BenchRow[];
}

/** Throughput and latencies of one measured stretch. */
export interface Measurement {
  /** Operations done (calls × opsPerCall). */
  ops: number;
  /** Elapsed time. */
  elapsedMs: number;
  /** Latency of every call. */
  latenciesMs: number[];
}

/** Value at percentile `p` (0–100) of `values` (not necessarily sorted). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Runs `op` with `concurrency` callers back to back for `durationMs`. */
export async function measure(
  op: BenchOp,
  concurrency: number,
  durationMs: number,
  opsPerCall = 1,
): Promise<Measurement> {
  const latenciesMs: number[] = [];
  const start = performance.now();
  const end = start + durationMs;
  let calls = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await op();
        latenciesMs.push(performance.now() - t0);
        calls++;
      }
    }),
  );
  return { ops: calls * opsPerCall, elapsedMs: performance.now() - start, latenciesMs };
}

/** Median of `xs` (the mean of the two middle values for an even count; NaN for none). */
export function median(xs: number[]): number {
  const sorted = [...xs].sort((a, c) => a - c);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round2 = (n: number | null) => (n === null || !Number.isFinite(n) ? null : Math.round(n * 100) / 100);

function summarize(parts: Measurement[]): { opsPerSec: number; p50Ms: number; p99Ms: number } {
  const ops = parts.reduce((s, m) => s + m.ops, 0);
  const ms = parts.reduce((s, m) => s + m.elapsedMs, 0);
  const lat = parts.flatMap((m) => m.latenciesMs);
  return { opsPerSec: (ops / ms) * 1000, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99) };
}

/** Measures one pair in alternating rounds; returns the subject's row (baseline figures included). */
export async function measurePair(pair: BenchPair, options: Required<BenchOptions>): Promise<BenchRow> {
  const concurrency = pair.concurrency ?? options.concurrency;
  const per = options.durationMs / options.rounds;
  await measure(pair.baseline, concurrency, options.warmupMs, pair.opsPerCall);
  await measure(pair.subject, concurrency, options.warmupMs, pair.opsPerCall);
  const base: Measurement[] = [];
  const subj: Measurement[] = [];
  for (let r = 0; r < options.rounds; r++) {
    // A/B then B/A: neither side always runs first.
    if (r % 2 === 0) {
      base.push(await measure(pair.baseline, concurrency, per, pair.opsPerCall));
      subj.push(await measure(pair.subject, concurrency, per, pair.opsPerCall));
    } else {
      subj.push(await measure(pair.subject, concurrency, per, pair.opsPerCall));
      base.push(await measure(pair.baseline, concurrency, per, pair.opsPerCall));
    }
  }
  const b = summarize(base);
  const s = summarize(subj);
  // Median of the per-round ratios: one round disturbed by another process does not move it.
  const ratio = median(subj.map((m, i) => m.ops / m.elapsedMs / (base[i].ops / base[i].elapsedMs)));
  const row: BenchRow = {
    case: pair.case,
    opsPerSec: Math.round(s.opsPerSec),
    p50Ms: round2(s.p50Ms),
    p99Ms: round2(s.p99Ms),
    baselineOpsPerSec: Math.round(b.opsPerSec),
    ratio: round2(ratio),
  };
  if (pair.target !== undefined) {
    row.target = pair.target;
    row.pass = ratio >= pair.target;
  }
  return row;
}

/** Prints the report as a table. */
export function printReport(report: BenchReport): void {
  const head = ['case', 'ops/s', 'p50 ms', 'p99 ms', 'baseline ops/s', 'ratio', 'target'];
  const rows = report.cases.map((c) => [
    c.case,
    String(c.opsPerSec),
    c.p50Ms === null ? '-' : c.p50Ms.toFixed(2),
    c.p99Ms === null ? '-' : c.p99Ms.toFixed(2),
    c.baselineOpsPerSec === null ? '-' : String(c.baselineOpsPerSec),
    c.ratio === null ? '-' : c.ratio.toFixed(2),
    c.target === undefined ? '' : `>= ${c.target} ${c.pass ? 'PASS' : 'FAIL'}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\nbench ${report.name} (${report.concurrency} callers, ${report.durationMs} ms per side and case)`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Writes `bench/results/<name>.json`; returns its path. */
export function writeReport(report: BenchReport): string {
  const dir = join(__dirname, '..', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.name}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/**
 * Sets up, measures every pair, adds the extras, tears down, prints and saves the report, then exits
 * the process (1 on an error or a missed target).
 */
export async function runBench(
  name: string,
  setup: () => Promise<BenchSetup>,
  options: BenchOptions = {},
): Promise<BenchReport> {
  const durationMs = options.durationMs ?? Number(process.env.BENCH_DURATION_MS ?? 5000);
  const opts: Required<BenchOptions> = {
    concurrency: options.concurrency ?? 50,
    rounds: options.rounds ?? 10,
    durationMs,
    warmupMs: options.warmupMs ?? Math.min(1000, durationMs / 10),
  };
  let code = 0;
  const report: BenchReport = { name, durationMs, concurrency: opts.concurrency, cases: [] };
  let teardown: (() => Promise<void>) | undefined;
  try {
    const s = await setup();
    teardown = s.teardown;
    for (const pair of s.pairs) report.cases.push(await measurePair(pair, opts));
    for (const e of (await s.extras?.()) ?? []) {
      report.cases.push({
        case: e.case,
        opsPerSec: Math.round(e.opsPerSec),
        p50Ms: round2(e.p50Ms ?? null),
        p99Ms: round2(e.p99Ms ?? null),
        baselineOpsPerSec: null,
        ratio: null,
      });
    }
    printReport(report);
    console.log(`\nwrote ${writeReport(report)}`);
    if (report.cases.some((c) => c.pass === false)) code = 1;
  } catch (err) {
    console.error(err);
    code = 1;
  } finally {
    await teardown?.().catch((err: unknown) => console.error('teardown failed:', err));
  }
  process.exit(code);
}

/** One figure of a bench that reports named values (cache, session, metrics) rather than baseline/subject pairs. */
export interface BenchLine {
  /** What was measured. */
  name: string;
  /** The figure. */
  value: number;
  /** `ops/s`, `req/s`, `ms`, `µs`, `ratio`, `x`... */
  unit: string;
  /** The target, as text (e.g. `>= 0.9`). */
  target?: string;
  /** Whether the target was met (absent: no target). */
  pass?: boolean;
}

/**
 * Prints bench lines as an aligned table; ratios (`ratio`, `x`) with `ratioDigits` decimals, milliseconds below 100
 * with two, the rest rounded.
 */
export function printLines(lines: BenchLine[], ratioDigits = 2): void {
  for (const l of lines) {
    const v =
      l.unit === 'ratio' || l.unit === 'x'
        ? l.value.toFixed(ratioDigits)
        : l.unit === 'ms' && Math.abs(l.value) < 100
          ? l.value.toFixed(2)
          : Math.round(l.value).toString();
    const verdict = l.pass === undefined ? '' : l.pass ? '  PASS' : '  FAIL';
    console.log(`${l.name.padEnd(70)} ${v.padStart(9)} ${l.unit.padEnd(8)} ${l.target ?? ''}${verdict}`);
  }
}
