// Token sampling fused into one pass per row (models/helpers.py sample_with_top_k_top_p_ for VAR,
// generate.py's sample for LlamaGen; llamagen-dd.md §2.3, var-dd.md §3.8): temperature
// (LlamaGen), the k-th largest logit by quickselect, the survivors gathered, the top-p boundary
// decided on the sorted survivors only (≈ k values, not V), then the softmax and one inverse-CDF
// draw over the kept entries. It makes exactly the picks (and `filteredProbs` exactly the
// probabilities) of the reference composition in ./filter.ts and ./categorical.ts
//   applyTemperature_ → topKFilter_ → topPFilterLlamaGen_ | topPFilterVar_ → softmaxRows
//   → sampleCategorical
// (same float32/float64 arithmetic in the same order; ties at the top-p boundary resolved in
// index order as the stable sorts do; one uniform per row drawn up front), which the tests
// check, at a fraction of its cost (V = 16384, k = 8000: no full-row sort, exponentials only of
// survivors). Logits are never modified.
//
// Letters: R rows (tokens), V codebook size, m survivors of top-k in a row, n kept after top-p.

import type { Rng } from '../tensor/rng.js';
import { kthLargest, type FilterSettings } from './filter.js';

/** Scratch buffers reused across rows and calls; one instance per sampling loop. */
export class FusedSampler {
  private sel = new Float32Array(0);
  private tempered = new Float32Array(0);
  private vals = new Float32Array(0);
  private sorted = new Float32Array(0);
  private idxs = new Int32Array(0);
  private probs = new Float32Array(0);

  private ensure(V: number): void {
    if (this.sel.length >= V) return;
    this.sel = new Float32Array(V);
    this.tempered = new Float32Array(V);
    this.vals = new Float32Array(V);
    this.sorted = new Float32Array(V);
    this.idxs = new Int32Array(V);
    this.probs = new Float32Array(V);
  }

  /** One index per row of logits [R, V] (not modified). */
  sample(logits: Float32Array, rows: number, V: number, s: FilterSettings, rng: Rng): Int32Array {
    this.check(logits, rows, V);
    const u = rng.uniform(rows);
    const out = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      const n = this.keep(logits, r * V, V, s, r);
      out[r] = this.draw(n, u[r] as number, r);
    }
    return out;
  }

  /** The sampling distribution of every row of logits [R, V] (not modified) → float32 [R, V]. */
  filteredProbs(logits: Float32Array, rows: number, V: number, s: FilterSettings): Float32Array {
    this.check(logits, rows, V);
    const out = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) {
      const n = this.keep(logits, r * V, V, s, r);
      const off = r * V;
      for (let i = 0; i < n; i++) out[off + (this.idxs[i] as number)] = this.probs[i] as number;
    }
    return out;
  }

  private check(logits: Float32Array, rows: number, V: number): void {
    if (logits.length < rows * V)
      throw new Error(`sample: ${logits.length} logits given for ${rows} rows of ${V}`);
    this.ensure(V);
  }

  /** Kept entries of one row → idxs/probs[0, n) in index order (probs as softmaxRows makes them). */
  private keep(x: Float32Array, off: number, V: number, s: FilterSettings, r: number): number {
    const { vals, idxs, probs } = this;
    // 0. temperature (LlamaGen; float32 like applyTemperature_).
    let src = x.subarray(off, off + V);
    if (s.rule === 'llamagen') {
      const t = Math.max(s.temperature ?? 1, 1e-5);
      if (t !== 1) {
        const tt = this.tempered;
        for (let j = 0; j < V; j++) tt[j] = (src[j] as number) / t;
        src = tt.subarray(0, V);
      }
    }
    // 1. top-k threshold: entries strictly below the k-th largest are removed (ties survive).
    const k = s.topK ?? 0;
    const tau = k > 0 && k < V ? kthLargest(src, k, this.sel) : -Infinity;
    let m = 0;
    for (let j = 0; j < V; j++) {
      const v = src[j] as number;
      if (v >= tau && v > -Infinity) {
        vals[m] = v;
        idxs[m] = j;
        m++;
      }
    }
    if (m === 0) throw new Error(`sample: row ${r} has no finite logit`);
    // 2. top-p on the ascending survivors. Entries below `cut` are dropped; of those equal to it
    //    (in index order) only ranks [tieLo, tieHi) are kept.
    const { cut, tieLo, tieHi } = this.topP(m, s);
    // 3. softmax of the kept entries (as softmaxRows: float64 sum in index order, float32 probs).
    let mx = -Infinity;
    let n = 0;
    let tie = 0;
    for (let i = 0; i < m; i++) {
      const v = vals[i] as number;
      if (v < cut) continue;
      if (v === cut) {
        const rank = tie++;
        if (rank < tieLo || rank >= tieHi) continue;
      }
      vals[n] = v;
      idxs[n] = idxs[i] as number;
      n++;
      if (v > mx) mx = v;
    }
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.exp((vals[i] as number) - mx);
      probs[i] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let i = 0; i < n; i++) probs[i] = (probs[i] as number) * inv;
    return n;
  }

  /** The top-p boundary over the m survivors in vals (see topPFilterLlamaGen_ / topPFilterVar_). */
  private topP(m: number, s: FilterSettings): { cut: number; tieLo: number; tieHi: number } {
    const off = { cut: -Infinity, tieLo: 0, tieHi: Infinity };
    const llamagen = s.rule === 'llamagen';
    const p = s.topP ?? (llamagen ? 1 : 0);
    if ((llamagen ? p >= 1 : p <= 0) || m < 2) return off;
    const a = this.sorted.subarray(0, m);
    a.set(this.vals.subarray(0, m));
    a.sort();
    const mx = a[m - 1] as number;
    if (llamagen) {
      // Descending (ties by index); entry i > 0 goes once the mass of entries 0..i−1 exceeds p.
      let total = 0;
      for (let i = m - 1; i >= 0; i--) total += Math.exp((a[i] as number) - mx);
      let cum = 0;
      let kept = m;
      for (let i = 0; i < m; i++) {
        if (i > 0 && cum > p) {
          kept = i;
          break;
        }
        cum += Math.exp((a[m - 1 - i] as number) - mx) / total;
      }
      if (kept === m) return off;
      const cut = a[m - kept] as number; // the smallest kept value
      let above = 0;
      while (above < kept && (a[m - 1 - above] as number) > cut) above++;
      return { cut, tieLo: 0, tieHi: kept - above };
    }
    // VAR: ascending; drop the prefix whose cumulative mass is ≤ 1 − p, never the largest.
    let total = 0;
    for (let i = 0; i < m; i++) total += Math.exp((a[i] as number) - mx);
    let cum = 0;
    let removed = 0;
    for (let i = 0; i < m - 1; i++) {
      cum += Math.exp((a[i] as number) - mx) / total;
      if (cum <= 1 - p) removed++;
      else break;
    }
    if (removed === 0) return off;
    const cut = a[removed] as number; // the smallest kept value
    let below = 0;
    while (below < removed && (a[below] as number) < cut) below++;
    return { cut, tieLo: removed - below, tieHi: Infinity };
  }

  /** Inverse CDF over the n kept probabilities with one uniform (as sampleCategorical). */
  private draw(n: number, u: number, r: number): number {
    const { idxs, probs } = this;
    let total = 0;
    for (let i = 0; i < n; i++) total += probs[i] as number;
    const target = u * total;
    let c = 0;
    let pick = -1;
    for (let i = 0; i < n; i++) {
      const p = probs[i] as number;
      if (p <= 0) continue;
      c += p;
      pick = idxs[i] as number;
      if (c > target) break;
    }
    if (pick < 0) throw new Error(`sample: row ${r} has no positive probability`);
    return pick;
  }
}

/** The sampling distribution p of each row of guided logits [rows, V], in the official order
 *  (temperature, top-k, top-p, softmax); equal to the reference composition
 *  `filteredProbsReference`. Logits are not modified. */
export function filteredProbs(
  logits: Float32Array,
  rows: number,
  V: number,
  s: FilterSettings,
): Float32Array {
  return new FusedSampler().filteredProbs(logits, rows, V, s);
}
