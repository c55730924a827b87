// Same-run reference for GEMM speed: times `a @ b` (or `a @ b.T`) with numpy in one python3
// process. Returns null when python3 or numpy is unavailable.

import { spawnSync } from 'node:child_process';

export interface NumpyGemm {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** b stored [n, k] (x·Wᵀ, as in a Linear layer). */
  readonly transB: boolean;
}

const SCRIPT = `
import json, sys, time
import numpy as np
out = []
for s in json.loads(sys.argv[1]):
    m, n, k, tb, reps = s['m'], s['n'], s['k'], s['transB'], s['reps']
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    f = (lambda: a @ b.T) if tb else (lambda: a @ b)
    f()
    t0 = time.perf_counter(); f(); t1 = time.perf_counter() - t0
    inner = max(1, int(0.02 / max(t1, 1e-7)))
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(inner): f()
        ts.append((time.perf_counter() - t0) / inner)
    ts.sort()
    out.append(2.0 * m * n * k / ts[len(ts) // 2] / 1e9)
print(json.dumps(out))
`;

/** GFLOP/s per shape (median of `reps`), or null without numpy. */
export function numpyGemmGflops(shapes: readonly NumpyGemm[], reps: number): number[] | null {
  const arg = JSON.stringify(shapes.map((s) => ({ ...s, reps })));
  const r = spawnSync('python3', ['-c', SCRIPT, arg], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return null;
  try {
    const v: unknown = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    if (!Array.isArray(v) || v.length !== shapes.length || !v.every((x) => typeof x === 'number'))
      return null;
    return v.map((x) => Number(x));
  } catch {
    return null;
  }
}

/** numpy's version and BLAS threads, for the report; null without numpy. */
export function numpyAvailable(): boolean {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8', timeout: 60_000 });
  return r.status === 0;
}
