// Suite `gemm`: matmul GFLOP/s (median of repetitions) for square sizes, the skinny
// products of a GPT-B decode step and the medium ones of VAR-d16 / VAR-DD (x·Wᵀ with W [n, k]
// row-major, as in a Linear layer), per
// backend, with numpy (OpenBLAS) timed in the same run as the reference when available.

import type { Backend, MatmulParams } from '../../src/backend/kernels.js';
import { availableBackends } from '../backends.js';
import { numpyGemmGflops } from '../numpy.js';
import type { BenchRow, BenchSuite } from '../types.js';

// Timing helpers, shared with the attention and conv2d suites: the median over `reps`
// repetitions, each looping the call long enough (≥ 20 ms) that short kernels time in bulk.

/** Median seconds per call. */
export function medianSeconds(fn: () => void, reps: number): number {
  fn();
  const t0 = performance.now();
  fn();
  const once = (performance.now() - t0) / 1000;
  const inner = Math.max(1, Math.ceil(0.02 / Math.max(once, 1e-7)));
  const ts: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = performance.now();
    for (let i = 0; i < inner; i++) fn();
    ts.push((performance.now() - s) / 1000 / inner);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)] as number;
}

/** Seeded uniform values in [-1, 1). */
export function randomF32(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2147483648 - 1;
  }
  return a;
}

interface Shape {
  readonly name: string;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transB: boolean;
}

function shapes(quick: boolean): Shape[] {
  const sq = (s: number): Shape => ({ name: `square-${s}`, m: s, n: s, k: s, transB: false });
  const lin = (name: string, m: number, n: number, k: number): Shape => ({
    name,
    m,
    n,
    k,
    transB: true,
  });
  return [
    ...(quick ? [256, 512] : [256, 512, 1024, 2048]).map(sq),
    lin('decode qkv [1×768]·[2304×768]ᵀ', 1, 2304, 768),
    lin('decode mlp-up [1×768]·[2048×768]ᵀ', 1, 2048, 768),
    lin('decode mlp-down [1×2048]·[768×2048]ᵀ', 1, 768, 2048),
    lin('decode head [1×768]·[16384×768]ᵀ', 1, 16384, 768),
    lin('cfg decode qkv [2×768]·[2304×768]ᵀ', 2, 2304, 768),
    lin('batch-8 head [8×768]·[16384×768]ᵀ', 8, 16384, 768),
    // VAR-d16 with CFG (rows = 2·pn²) and VAR-DD d16 one step (681 rows): K = 1024
    lin('var pn=3 qkv [18×1024]·[3072×1024]ᵀ', 18, 3072, 1024),
    lin('var pn=6 fc1 [72×1024]·[4096×1024]ᵀ', 72, 4096, 1024),
    lin('var pn=13 fc1 [338×1024]·[4096×1024]ᵀ', 338, 4096, 1024),
    lin('var pn=16 fc2 [512×4096]·[1024×4096]ᵀ', 512, 1024, 4096),
    lin('var-dd qkv [681×1024]·[3072×1024]ᵀ', 681, 3072, 1024),
    ...(quick ? [] : [lin('var-dd fc1 [681×1024]·[4096×1024]ᵀ', 681, 4096, 1024)]),
    ...(quick ? [] : [lin('prefill qkv [2048×768]·[2304×768]ᵀ', 2048, 2304, 768)]),
  ];
}

function gflops(b: Backend, s: Shape, reps: number): number {
  const p: MatmulParams = {
    batch: 1,
    m: s.m,
    n: s.n,
    k: s.k,
    transA: false,
    transB: s.transB,
    strideA: 0,
    strideB: 0,
    accumulate: false,
  };
  const a = randomF32(s.m * s.k, 1);
  const w = randomF32(s.k * s.n, 2);
  const out = new Float32Array(s.m * s.n);
  return (2 * s.m * s.n * s.k) / medianSeconds(() => b.matmul(a, w, out, p), reps) / 1e9;
}

export const suite: BenchSuite = {
  name: 'gemm',
  async run({ quick }) {
    const list = shapes(quick);
    const reps = quick ? 3 : 7;
    const rows: BenchRow[] = [];
    // numpy is timed right after native for each shape, so both see the same machine load.
    for (const s of list) {
      for (const b of availableBackends()) {
        // The ts reference runs ≈1 GFLOP/s: only sizes that finish in seconds.
        if (b.name === 'ts' && s.m * s.n * s.k > 600 * 600 * 600) continue;
        rows.push({
          suite: 'gemm',
          name: s.name,
          backend: b.name,
          value: gflops(b, s, b.name === 'ts' ? 3 : reps),
          unit: 'GFLOP/s',
        });
      }
      const np = numpyGemmGflops([s], reps)?.[0];
      if (np === undefined) continue;
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i] as BenchRow;
        if (r.name === s.name) rows[i] = { ...r, ref: { backend: 'numpy', value: np } };
      }
      rows.push({ suite: 'gemm', name: s.name, backend: 'numpy', value: np, unit: 'GFLOP/s' });
    }
    return rows;
  },
};
