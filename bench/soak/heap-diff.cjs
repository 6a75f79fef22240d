#!/usr/bin/env node
/**
 * Diagnosis of a soak's heap growth: `node bench/soak/heap-diff.cjs <before.heapsnapshot> <after.heapsnapshot>`
 * prints, by node type and constructor name, the count and self size in each snapshot and the difference, the
 * largest growths first; with `--retainers <name>` also the retainer paths (edge names and owner constructors)
 * of the objects of that constructor that exist in `after` only, grouped by their first `--depth` (3) retainers.
 */
'use strict';

const { readFileSync } = require('node:fs');

function load(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snap.snapshot.meta;
  const nf = meta.node_fields;
  const ef = meta.edge_fields;
  const nodeTypes = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const N = nf.length;
  const E = ef.length;
  const iType = nf.indexOf('type');
  const iName = nf.indexOf('name');
  const iId = nf.indexOf('id');
  const iSize = nf.indexOf('self_size');
  const iEdges = nf.indexOf('edge_count');
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  return { snap, nodeTypes, edgeTypes, N, E, iType, iName, iId, iSize, iEdges, eType, eName, eTo };
}

function label(s, i) {
  const t = s.nodeTypes[s.snap.nodes[i + s.iType]];
  const name = s.snap.strings[s.snap.nodes[i + s.iName]];
  if (t === 'object' || t === 'closure' || t === 'native') return `${t}:${name}`;
  if (t === 'string' || t === 'concatenated string' || t === 'sliced string') return 'string';
  return `${t}:${name.length > 40 ? name.slice(0, 40) : name}`;
}

function histogram(s) {
  const h = new Map();
  const nodes = s.snap.nodes;
  for (let i = 0; i < nodes.length; i += s.N) {
    const k = label(s, i);
    const e = h.get(k) ?? { count: 0, size: 0 };
    e.count++;
    e.size += nodes[i + s.iSize];
    h.set(k, e);
  }
  return h;
}

const args = process.argv.slice(2);
const ri = args.indexOf('--retainers');
const wanted = ri >= 0 ? args.splice(ri, 2)[1] : undefined;
const di = args.indexOf('--depth');
const depth = di >= 0 ? Number(args.splice(di, 2)[1]) : 3;
const [a, b] = args.map(load);
const ha = histogram(a);
const hb = histogram(b);
const rows = [];
for (const k of new Set([...ha.keys(), ...hb.keys()])) {
  const x = ha.get(k) ?? { count: 0, size: 0 };
  const y = hb.get(k) ?? { count: 0, size: 0 };
  rows.push({ k, c0: x.count, c1: y.count, dc: y.count - x.count, ds: y.size - x.size });
}
rows.sort((p, q) => q.ds - p.ds);
console.log(`total nodes ${a.snap.nodes.length / a.N} -> ${b.snap.nodes.length / b.N}`);
for (const r of rows.slice(0, 40)) {
  console.log(`${String(r.ds).padStart(10)} B ${String(r.dc).padStart(8)}  ${r.c0} -> ${r.c1}  ${r.k}`);
}

if (wanted) {
  // Ids in `a`, then in `b` the nodes of the wanted label that are new, and who points at them.
  const idsA = new Set();
  for (let i = 0; i < a.snap.nodes.length; i += a.N) idsA.add(a.snap.nodes[i + a.iId]);
  const nodes = b.snap.nodes;
  const edges = b.snap.edges;
  const firstEdge = new Uint32Array(nodes.length / b.N + 1);
  for (let n = 0, e = 0; n < nodes.length / b.N; n++) {
    firstEdge[n] = e;
    e += nodes[n * b.N + b.iEdges] * b.E;
  }
  const retainers = new Map(); // node index -> [ [from index, edge label] ]
  for (let n = 0; n < nodes.length / b.N; n++) {
    const end = n + 1 < nodes.length / b.N ? firstEdge[n + 1] : edges.length;
    for (let e = firstEdge[n]; e < end; e += b.E) {
      const to = edges[e + b.eTo];
      const t = b.edgeTypes[edges[e + b.eType]];
      if (t === 'weak') continue;
      // Indexes are all alike (an array's or a hash table's slots): one group for all of them.
      const raw = t === 'element' || t === 'hidden' ? '[]' : b.snap.strings[edges[e + b.eName]];
      const name = /^\d+$/.test(raw) ? '[]' : raw;
      let list = retainers.get(to);
      if (!list) retainers.set(to, (list = []));
      list.push([n * b.N, `${t}:${name}`]);
    }
  }
  const paths = new Map();
  let fresh = 0;
  for (let i = 0; i < nodes.length; i += b.N) {
    if (label(b, i) !== wanted || idsA.has(nodes[i + b.iId])) continue;
    fresh++;
    // Three levels of retainers, first retainer each.
    const chain = [];
    let cur = i;
    for (let d = 0; d < depth; d++) {
      const r = (retainers.get(cur) ?? []).filter(([f]) => !label(b, f).startsWith('synthetic'))[0];
      if (!r) break;
      chain.push(`${r[1]} <- ${label(b, r[0])}`);
      cur = r[0];
    }
    const key = chain.join('  |  ');
    paths.set(key, (paths.get(key) ?? 0) + 1);
  }
  console.log(`\n${fresh} new ${wanted}; retainer chains:`);
  for (const [k, n] of [...paths].sort((p, q) => q[1] - p[1]).slice(0, 15)) console.log(`${n}x  ${k}`);
}
