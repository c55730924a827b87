// VAR's token sampler (models/helpers.py sample_with_top_k_top_p_, var-dd.md §3.8) fused into
// one pass per row: the k-th largest logit by quickselect, the survivors gathered, VAR's top-p
// decided on the sorted survivors only (≈ k values, not V), then the softmax and one inverse-CDF
// draw over the survivors. It makes exactly the picks of the composition
//   topKFilter_ → topPFilterVar_ → softmaxRows → sampleCategorical
// of src/sampling (same float64/float32 arithmetic in the same order, ties at the top-p boundary
// removed in index order, one uniform per row drawn up front), which the tests check, at a
// fraction of its cost (V = 4096, k = 900: no full-row sort, exponentials only of survivors).
//
// Letters: R rows (tokens), V codebook size, m survivors of top-k in a row.

import type { Rng } from '../../tensor/rng.js';

/** Scratch buffers reused across rows and calls of one sampler. */
export class VarSampler {
  private sel = new Float32Array(0);
  private vals = new Float32Array(0);
  private sorted = new Float32Array(0);
  private idxs = new Int32Array(0);
  private probs = new Float32Array(0);

  private ensure(V: number): void {
    if (this.sel.length >= V) return;
    this.sel = new Float32Array(V);
    this.vals = new Float32Array(V);
    this.sorted = new Float32Array(V);
    this.idxs = new Int32Array(V);
    this.probs = new Float32Array(V);
  }

  /** One index per row of logits [R, V] (not modified). topK ≤ 0 or ≥ V: off; topP ≤ 0: off. */
  sample(
    logits: Float32Array,
    rows: number,
    V: number,
    topK: number,
    topP: number,
    rng: Rng,
  ): Int32Array {
    if (logits.length < rows * V) {
      throw new Error(`VarSampler: ${logits.length} logits given for ${rows} rows of ${V}`);
    }
    this.ensure(V);
    const u = rng.uniform(rows);
    const out = new Int32Array(rows);
    for (let r = 0; r < rows; r++)
      out[r] = this.row(logits, r * V, V, topK, topP, u[r] as number, r);
    return out;
  }

  private row(
    x: Float32Array,
    off: number,
    V: number,
    topK: number,
    topP: number,
    u: number,
    r: number,
  ): number {
    const { vals, idxs, probs } = this;
    // 1. top-k threshold: entries strictly below the k-th largest are removed (ties survive).
    const tau = topK > 0 && topK < V ? this.kthLargest(x, off, V, topK) : -Infinity;
    let m = 0;
    for (let j = 0; j < V; j++) {
      const v = x[off + j] as number;
      if (v >= tau && v > -Infinity) {
        vals[m] = v;
        idxs[m] = j;
        m++;
      }
    }
    if (m === 0) throw new Error(`VarSampler: row ${r} has no finite logit`);
    // 2. VAR top-p on the ascending survivors: drop the prefix whose cumulative probability is
    //    ≤ 1 − p, never the largest; ties at the boundary go in index order.
    let cut = -Infinity; // survivors below cut are dropped
    let dropTies = 0; // and this many equal to cut, lowest index first
    if (topP > 0 && m > 1) {
      const s = this.sorted.subarray(0, m);
      s.set(vals.subarray(0, m));
      s.sort();
      const mx = s[m - 1] as number;
      let total = 0;
      for (let i = 0; i < m; i++) total += Math.exp((s[i] as number) - mx);
      let cum = 0;
      let removed = 0;
      for (let i = 0; i < m - 1; i++) {
        cum += Math.exp((s[i] as number) - mx) / total;
        if (cum <= 1 - topP) removed++;
        else break;
      }
      if (removed > 0) {
        cut = s[removed] as number;
        let below = 0;
        while (below < removed && (s[below] as number) < cut) below++;
        dropTies = removed - below;
      }
    }
    // 3. softmax of the kept entries (as softmaxRows: float64 sum in index order, float32 probs).
    let mx = -Infinity;
    let kept = 0;
    for (let i = 0; i < m; i++) {
      const v = vals[i] as number;
      if (v < cut || (v === cut && dropTies > 0 && dropTies-- > 0)) continue;
      vals[kept] = v;
      idxs[kept] = idxs[i] as number;
      kept++;
      if (v > mx) mx = v;
    }
    let sum = 0;
    for (let i = 0; i < kept; i++) {
      const e = Math.exp((vals[i] as number) - mx);
      probs[i] = e;
      sum += e;
    }
    const inv = 1 / sum;
    let total = 0;
    for (let i = 0; i < kept; i++) {
      probs[i] = (probs[i] as number) * inv;
      total += probs[i] as number;
    }
    // 4. inverse CDF with one uniform (as sampleCategorical).
    const target = u * total;
    let c = 0;
    let pick = -1;
    for (let i = 0; i < kept; i++) {
      const p = probs[i] as number;
      if (p <= 0) continue;
      c += p;
      pick = idxs[i] as number;
      if (c > target) break;
    }
    if (pick < 0) throw new Error(`VarSampler: row ${r} has no positive probability`);
    return pick;
  }

  /** The k-th largest of x[off, off + V) (quickselect on a scratch copy). */
  private kthLargest(x: Float32Array, off: number, V: number, k: number): number {
    const a = this.sel;
    a.set(x.subarray(off, off + V));
    const target = V - k; // index in ascending order
    let lo = 0;
    let hi = V - 1;
    while (hi > lo) {
      // Median of three as pivot.
      const p0 = a[lo] as number;
      const p1 = a[(lo + hi) >>> 1] as number;
      const p2 = a[hi] as number;
      const pivot = p0 < p1 ? (p1 < p2 ? p1 : p0 < p2 ? p2 : p0) : p0 < p2 ? p0 : p1 < p2 ? p2 : p1;
      let i = lo;
      let j = hi;
      while (i <= j) {
        while ((a[i] as number) < pivot) i++;
        while ((a[j] as number) > pivot) j--;
        if (i <= j) {
          const t = a[i] as number;
          a[i] = a[j] as number;
          a[j] = t;
          i++;
          j--;
        }
      }
      if (target <= j) hi = j;
      else if (target >= i) lo = i;
      else return a[target] as number;
    }
    return a[target] as number;
  }
}
