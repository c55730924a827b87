// Nearest codebook rows (squared Euclidean distance, the first index on ties), as the official
// DD samplers compute them with a [V, B, L, d] difference tensor — here without it: candidates
// come from ‖e‖² − 2x·e in float32 GEMM chunks ([chunk, V] scores at a time), and every
// candidate within a safe margin of the best is re-ranked with the exact Σ (x − e)² in
// float64, so float32 cancellation never decides the winner. Shared by both students.

import * as T from '../tensor/index.js';

/** Rows per GEMM chunk ([chunk, V] scores live at a time). */
const CHUNK = 512;

/** x [N, d], codebook [V, d] → int32 [N]. With `rows`, only those vector indices are searched
 *  and the others are left 0. NaN vectors map to 0 (as torch's argmin does). */
export function nearestCodebook(
  x: Float32Array,
  codebook: Float32Array,
  d: number,
  rows?: Iterable<number>,
): Int32Array {
  const N = x.length / d;
  const V = codebook.length / d;
  if (!Number.isInteger(N) || !Number.isInteger(V) || V === 0) {
    throw new Error(
      `nearestCodebook: x (${x.length} values) and codebook (${codebook.length}) must be rows of ${d}`,
    );
  }
  const out = new Int32Array(N);
  let ids: Int32Array | null = null;
  let xs = x;
  if (rows) {
    ids = Int32Array.from(rows);
    xs = new Float32Array(ids.length * d);
    ids.forEach((n, i) => xs.set(x.subarray(n * d, (n + 1) * d), i * d));
  }
  const M = xs.length / d;
  const ee = new Float64Array(V);
  let eeMax = 0;
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += codebook[v * d + c]! ** 2;
    ee[v] = s;
    eeMax = Math.max(eeMax, s);
  }
  const cb = new T.Tensor(codebook, [V, d]);
  for (let r0 = 0; r0 < M; r0 += CHUNK) {
    const n = Math.min(CHUNK, M - r0);
    const dot = T.noGrad(() =>
      T.matmul(new T.Tensor(xs.subarray(r0 * d, (r0 + n) * d), [n, d]), cb, { transB: true }),
    ).data; // [n, V]
    for (let i = 0; i < n; i++) {
      const row = (r0 + i) * d;
      let xx = 0;
      for (let c = 0; c < d; c++) xx += xs[row + c]! ** 2;
      let best = Infinity;
      for (let v = 0; v < V; v++) best = Math.min(best, ee[v]! - 2 * dot[i * V + v]!);
      // float32 dot products err by at most ~d·2⁻²⁴·‖x‖‖e‖; 1e-4 of the magnitudes covers that.
      const margin = 1e-4 * (xx + eeMax) + 1e-30;
      let arg = -1;
      let argD = Infinity;
      for (let v = 0; v < V; v++) {
        if (ee[v]! - 2 * dot[i * V + v]! > best + margin) continue;
        let s = 0;
        for (let c = 0; c < d; c++) s += (xs[row + c]! - codebook[v * d + c]!) ** 2;
        if (s < argD) {
          argD = s;
          arg = v;
        }
      }
      out[ids ? ids[r0 + i]! : r0 + i] = arg < 0 ? 0 : arg;
    }
  }
  return out;
}
