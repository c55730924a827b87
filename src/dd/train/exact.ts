// Exact teacher distributions for small models, and distances between distributions: the
// ground truth the DD tests compare students and baselines with.
//
// exactJoint enumerates all V^L token sequences of a class and runs the teacher's own
// generation loop (FlowTeacher.generate: KV cache / per-scale passes, CFG, temperature, top-k,
// top-p exactly as in sampling) with a picker that forces each sequence and multiplies the
// probabilities the teacher assigned to the forced tokens. VAR's tokens inside a scale are
// conditionally independent, so the product over the rows of a scale is the joint as well.
// Sequence s ↔ tokens: s = Σ_j tok_j · V^(L−1−j) (token 0 most significant).

import type { FlowTeacher } from '../teacher.js';

/** Index of a token sequence tok[0..L) in base V. */
export function seqIndex(tok: ArrayLike<number>, from: number, L: number, V: number): number {
  let s = 0;
  for (let j = 0; j < L; j++) s = s * V + (tok[from + j] as number);
  return s;
}

/** p(sequence | class) for all V^L sequences (float64), in batches of `batch` sequences. */
export function exactJoint(teacher: FlowTeacher, cls: number, batch = 4096): Float64Array {
  const { vocab: V, seqLen: L } = teacher;
  const total = V ** L;
  if (!(total <= 2 ** 24))
    throw new Error(`exactJoint: ${V}^${L} sequences is too many to enumerate (limit 2^24)`);
  const p = new Float64Array(total);
  for (let a = 0; a < total; a += batch) {
    const B = Math.min(batch, total - a);
    const forced = new Int32Array(B * L);
    for (let b = 0; b < B; b++) {
      let s = a + b;
      for (let j = L - 1; j >= 0; j--) {
        forced[b * L + j] = s % V;
        s = Math.floor(s / V);
      }
    }
    const prob = new Float64Array(B).fill(1);
    teacher.generate(new Int32Array(B).fill(cls), (probs, start, count) => {
      const out = new Int32Array(B * count);
      for (let b = 0; b < B; b++)
        for (let j = 0; j < count; j++) {
          const v = forced[b * L + start + j] as number;
          out[b * count + j] = v;
          prob[b] = (prob[b] as number) * (probs[(b * count + j) * V + v] as number);
        }
      return out;
    });
    p.set(prob, a);
  }
  return p;
}

/** Empirical distribution of token sequences tokens [n, L] (rows of `rows`, or all). */
export function empirical(
  tokens: Int32Array,
  L: number,
  V: number,
  rows?: Iterable<number>,
): Float64Array {
  const p = new Float64Array(V ** L);
  let n = 0;
  for (const r of rows ?? Array.from({ length: tokens.length / L }, (_, i) => i)) {
    const s = seqIndex(tokens, r * L, L, V);
    p[s] = (p[s] as number) + 1;
    n++;
  }
  if (n > 0) for (let i = 0; i < p.length; i++) p[i] = (p[i] as number) / n;
  return p;
}

/** Total-variation distance ½ Σ |p − q| (p, q need not be exactly normalised). */
export function tvDistance(p: Float64Array, q: Float64Array): number {
  if (p.length !== q.length)
    throw new Error(`tvDistance: supports differ (${p.length} vs ${q.length})`);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs((p[i] as number) - (q[i] as number));
  return s / 2;
}

/** The product of a joint's position marginals (what independent per-position sampling with
 *  exact marginals produces), over the same V^L support. */
export function productOfMarginals(p: Float64Array, L: number, V: number): Float64Array {
  const marg = new Float64Array(L * V);
  for (let s = 0; s < p.length; s++) {
    let r = s;
    for (let j = L - 1; j >= 0; j--) {
      marg[j * V + (r % V)] = (marg[j * V + (r % V)] as number) + (p[s] as number);
      r = Math.floor(r / V);
    }
  }
  const q = new Float64Array(p.length);
  for (let s = 0; s < p.length; s++) {
    let r = s;
    let v = 1;
    for (let j = L - 1; j >= 0; j--) {
      v *= marg[j * V + (r % V)] as number;
      r = Math.floor(r / V);
    }
    q[s] = v;
  }
  return q;
}
