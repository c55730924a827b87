// Logit filtering exactly as the official samplers do it, in place on [rows, V] float32 rows:
// top-k keeps ties at the k-th value; top-p comes in LlamaGen's and VAR's variants (they
// differ at the boundary: see shared/reference/llamagen-dd.md §2.3 and var-dd.md §3.8).
// These composable helpers are the reference; sampling code uses the fused, equivalent
// FusedSampler / filteredProbs of ./fused.ts.

/** k-th largest value (1-based) of row[0..n) by quickselect (median-of-three pivots) on a
 *  scratch copy. */
export function kthLargest(row: Float32Array, k: number, scratch?: Float32Array): number {
  const n = row.length;
  const a = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Float32Array(n);
  a.set(row);
  const target = n - k; // index in ascending order
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
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
    else break;
  }
  return a[target] as number;
}

/** Sets every logit strictly below the k-th largest of its row to −∞ (k ≤ 0: no-op). */
export function topKFilter_(logits: Float32Array, rows: number, V: number, k: number): void {
  if (k <= 0) return;
  const kk = Math.min(Math.max(k, 1), V);
  if (kk >= V) return;
  const scratch = new Float32Array(V);
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * V, (r + 1) * V);
    const tau = kthLargest(row, kk, scratch);
    for (let j = 0; j < V; j++) if ((row[j] as number) < tau) row[j] = -Infinity;
  }
}

/** Finite entries of a row, sorted by value (descending when desc), ties by index. */
function sortedFinite(row: Float32Array, desc: boolean): Int32Array {
  let m = 0;
  for (let j = 0; j < row.length; j++) if ((row[j] as number) > -Infinity) m++;
  const idx = new Int32Array(m);
  m = 0;
  for (let j = 0; j < row.length; j++) if ((row[j] as number) > -Infinity) idx[m++] = j;
  const sign = desc ? -1 : 1;
  idx.sort((a, b) => sign * ((row[a] as number) - (row[b] as number)) || a - b);
  return idx;
}

/** Softmax probabilities (float64) of the entries idx of row. */
function probsOf(row: Float32Array, idx: Int32Array): Float64Array {
  let mx = -Infinity;
  for (const j of idx) mx = Math.max(mx, row[j] as number);
  const p = new Float64Array(idx.length);
  let s = 0;
  for (let i = 0; i < idx.length; i++) {
    const e = Math.exp((row[idx[i] as number] as number) - mx);
    p[i] = e;
    s += e;
  }
  for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) / s;
  return p;
}

/** LlamaGen top-p (p ≥ 1: off): sort descending; drop entry i when the cumulative probability
 *  of entries 0..i−1 exceeds p (the first crossing token is kept; the top-1 always is). */
export function topPFilterLlamaGen_(
  logits: Float32Array,
  rows: number,
  V: number,
  p: number,
): void {
  if (p >= 1) return;
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * V, (r + 1) * V);
    const idx = sortedFinite(row, true);
    const pr = probsOf(row, idx);
    let cum = 0;
    for (let i = 0; i < idx.length; i++) {
      if (i > 0 && cum > p) row[idx[i] as number] = -Infinity;
      cum += pr[i] as number;
    }
  }
}

/** VAR top-p (p ≤ 0: off): sort ascending, cumulative sum from the smallest; drop entries whose
 *  cumulative sum ≤ 1 − p, never the largest. */
export function topPFilterVar_(logits: Float32Array, rows: number, V: number, p: number): void {
  if (p <= 0) return;
  for (let r = 0; r < rows; r++) {
    const row = logits.subarray(r * V, (r + 1) * V);
    const idx = sortedFinite(row, false);
    const pr = probsOf(row, idx);
    let cum = 0;
    for (let i = 0; i < idx.length - 1; i++) {
      cum += pr[i] as number;
      if (cum <= 1 - p) row[idx[i] as number] = -Infinity;
      else break;
    }
  }
}

/** Divides logits by max(temperature, 1e-5) in place (LlamaGen's rule). */
export function applyTemperature_(logits: Float32Array, temperature: number): void {
  const t = Math.max(temperature, 1e-5);
  if (t === 1) return;
  for (let i = 0; i < logits.length; i++) logits[i] = (logits[i] as number) / t;
}

/** Row-wise softmax of [rows, V] logits (−∞ entries get probability 0). */
export function softmaxRows(logits: Float32Array, rows: number, V: number): Float32Array {
  const out = new Float32Array(rows * V);
  for (let r = 0; r < rows; r++) {
    const off = r * V;
    let mx = -Infinity;
    for (let j = 0; j < V; j++) mx = Math.max(mx, logits[off + j] as number);
    let s = 0;
    for (let j = 0; j < V; j++) {
      const e = Math.exp((logits[off + j] as number) - mx);
      out[off + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < V; j++) out[off + j] = (out[off + j] as number) * inv;
  }
  return out;
}

export interface FilterSettings {
  /** LlamaGen only (VAR samples at temperature 1). */
  readonly temperature?: number;
  /** 0 = off. */
  readonly topK?: number;
  /** LlamaGen: 1 = off; VAR: 0 = off. */
  readonly topP?: number;
  /** Whose top-p boundary rule to apply. */
  readonly rule: 'llamagen' | 'var';
}

/** The sampling distribution p of each row of guided logits [rows, V], in the official order
 *  (temperature, top-k, top-p, softmax), composed from the helpers above: the reference of the
 *  fused `filteredProbs` / `FusedSampler` (./fused.ts). Filters `logits` in place. */
export function filteredProbsReference(
  logits: Float32Array,
  rows: number,
  V: number,
  s: FilterSettings,
): Float32Array {
  if (s.rule === 'llamagen') applyTemperature_(logits, s.temperature ?? 1);
  const k = s.topK ?? 0;
  if (k > 0) topKFilter_(logits, rows, V, k);
  if (s.rule === 'llamagen') topPFilterLlamaGen_(logits, rows, V, s.topP ?? 1);
  else topPFilterVar_(logits, rows, V, s.topP ?? 0);
  return softmaxRows(logits, rows, V);
}
