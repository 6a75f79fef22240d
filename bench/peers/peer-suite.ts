/**
 * The shape of one feature's peer comparison in `npm run bench -- peers` and the code that measures it: ours vs
 * the peer package in alternating rounds on one redis-server (bench/support/bench-runner.ts `measurePair`),
 * ratio = ours / peer (median of the per-round ratios), one table for every feature.
 */
import { Module, type DynamicModule, type INestApplicationContext, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { RedisModule } from '../../src';
import { uniquePrefix, type RedisServer } from '../../test/support/redis-harness';
import { measurePair, type BenchOp, type BenchOptions } from '../support/bench-runner';

/** Ratio every row must reach (ours / peer). */
export const PEER_TARGET = 1.0;
/** Ratio of the messaging rows (streams, pub/sub, the messaging transport). */
export const MESSAGING_TARGET = 3.0;

/** One row measured by the shared runner: the same operation through our code and through the peer. */
export interface PeerCase {
  /** Row name, e.g. `cache get: CACHE_MANAGER (our store) / @keyv/redis`. */
  case: string;
  /** Concurrent callers, each calling back to back. */
  callers: number;
  /** How the table shows the callers (default: the number), e.g. `10x100` for bursts in flight. */
  callersLabel?: string;
  /** One call through our code. */
  ours: BenchOp;
  /** One call through the peer. */
  peer: BenchOp;
  /** Operations one call performs (a burst of messages; default 1). */
  opsPerCall?: number;
  /** Least ours/peer ratio: {@link PEER_TARGET}, or {@link MESSAGING_TARGET} for messaging. */
  target: number;
}

/** Whether a larger figure is better (throughput) or a smaller one (bytes). */
export type Better = 'higher' | 'lower';

/** One row of the table and of `bench/results/peers.json`. */
export interface PeerRow {
  /** Feature, e.g. `cache`. */
  group: string;
  /** What was compared. */
  case: string;
  /** Concurrent callers (connections for HTTP, bursts in flight for messaging). */
  callers: string;
  /** Our figure (see `unit`); null for a row not measured yet. */
  ours: number | null;
  /** The peer's figure; null for a row not measured yet. */
  peer: number | null;
  /** `ops/s`, `msg/s`, `req/s` or `B/msg`. */
  unit: string;
  /** ours / peer: median of the per-round ratios (null: not measured yet). */
  ratio: number | null;
  /** The target ratio. */
  target: number;
  /** `higher`: ratio >= target passes (throughput); `lower`: ratio <= target passes (memory). */
  better: Better;
  /** Verdict; null for a row not measured yet. */
  pass: boolean | null;
}

/**
 * A ceiling: the same round trips as one of our rows, sent bare on a plain ioredis client (no library code around
 * them), against the peer's call. It is the most any implementation that needs those round trips and that Redis work can score
 * against the peer, so a row close to its ceiling has nothing left to win on the client. Printed after the table,
 * never judged.
 */
export interface PeerCeiling {
  /** What the bare side sends, and the peer's call, e.g. `EVALSHA of a one-key INCR / increment`. */
  case: string;
  /** Concurrent callers. */
  callers: number;
  /** The bare round trip(s) on a plain ioredis client. */
  bare: BenchOp;
  /** One call through the peer. */
  peer: BenchOp;
}

/** What a feature's setup returns. */
export interface PeerGroupSetup {
  /** Rows measured by the shared runner, in order. */
  cases: PeerCase[];
  /** Ceilings measured after the cases (see {@link PeerCeiling}). */
  ceilings?: PeerCeiling[];
  /** Rows measured another way (HTTP with autocannon, memory), run after the cases. */
  measured?: () => Promise<PeerRow[]>;
  /** Closes what the setup opened (apps, clients; not the server). */
  teardown: () => Promise<void>;
}

/** One feature's comparison; set up, measured and torn down before the next feature starts. */
export interface PeerGroup {
  /** Feature name, e.g. `lock`. */
  name: string;
  /** Opens apps and peer clients against the shared server. */
  setup: (server: RedisServer) => Promise<PeerGroupSetup>;
}

/**
 * Our side of a comparison: a Nest application context with RedisModule on `server` (a key prefix of its own, from
 * `label`) and the feature's modules and providers, as an application would compose them.
 */
export async function featureApp(
  server: RedisServer,
  label: string,
  imports: Array<DynamicModule | Type>,
  providers: Provider[] = [],
): Promise<INestApplicationContext> {
  @Module({
    imports: [RedisModule.forRoot({ url: server.url, keyPrefix: uniquePrefix(label) }), ...imports],
    providers,
  })
  class PeerBenchModule {}
  return NestFactory.createApplicationContext(PeerBenchModule, { logger: ['error'] });
}

/** Measures one case (peer = baseline, ours = subject) and returns its row. */
export async function measureCase(group: string, c: PeerCase, options: Required<BenchOptions>): Promise<PeerRow> {
  const row = await measurePair(
    { case: c.case, baseline: c.peer, subject: c.ours, concurrency: c.callers, opsPerCall: c.opsPerCall },
    options,
  );
  return {
    group,
    case: c.case,
    callers: c.callersLabel ?? String(c.callers),
    ours: row.opsPerSec,
    peer: row.baselineOpsPerSec,
    unit: (c.opsPerCall ?? 1) > 1 ? 'msg/s' : 'ops/s',
    ratio: row.ratio,
    target: c.target,
    better: 'higher',
    pass: row.ratio === null ? false : row.ratio >= c.target,
  };
}

/** The `target` of a ceiling's row: none (the table shows `ceiling`, and the row is never judged). */
const CEILING_TARGET = 0;

/** Measures one ceiling (peer = baseline, bare = subject) and returns it as a row without a verdict. */
export async function measureCeiling(group: string, c: PeerCeiling, options: Required<BenchOptions>): Promise<PeerRow> {
  const row = await measurePair({ case: c.case, baseline: c.peer, subject: c.bare, concurrency: c.callers }, options);
  return {
    group,
    case: c.case,
    callers: String(c.callers),
    ours: row.opsPerSec,
    peer: row.baselineOpsPerSec,
    unit: 'ops/s',
    ratio: row.ratio,
    target: CEILING_TARGET,
    better: 'higher',
    pass: null,
  };
}

/** A row for a comparison measured outside the shared runner; `ratio` is ours / peer. */
export function peerRow(
  fields: Omit<PeerRow, 'pass' | 'ratio' | 'better'> & { ratio: number; better?: Better },
): PeerRow {
  const better = fields.better ?? 'higher';
  const ratio = Math.round(fields.ratio * 100) / 100;
  return {
    ...fields,
    ratio,
    better,
    pass: better === 'higher' ? fields.ratio >= fields.target : fields.ratio <= fields.target,
  };
}

/** A row whose measurement does not exist yet (shown as pending; never a failure). */
export function pendingRow(group: string, name: string, target: number): PeerRow {
  return {
    group,
    case: name,
    callers: '-',
    ours: null,
    peer: null,
    unit: '-',
    ratio: null,
    target,
    better: 'higher',
    pass: null,
  };
}

/** Prints every row as one table: case, callers, ours, peer, ratio, target and verdict. */
export function printPeerTable(rows: PeerRow[], header: string): void {
  const head = ['case', 'callers', 'ours', 'peer', 'unit', 'ratio', 'target'];
  const num = (n: number | null) => (n === null ? '-' : String(Math.round(n)));
  const cells = rows.map((r) => [
    `${r.group}: ${r.case}`,
    r.callers,
    num(r.ours),
    num(r.peer),
    r.unit,
    r.ratio === null ? '-' : r.ratio.toFixed(2),
    r.target === CEILING_TARGET
      ? 'ceiling'
      : `${r.better === 'higher' ? '>=' : '<='} ${r.target.toFixed(1)} ${r.pass === null ? 'PENDING' : r.pass ? 'PASS' : 'FAIL'}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  console.log(`\n${header}`);
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}
