// A tiny exact AR teacher: a class-conditional first-order Markov chain over V codebook vectors,
// with a closed-form joint distribution (for enumeration). It is a real autoregressive model —
// p(x_j | x_{j-1}, class) — with strongly dependent tokens. The toy experiment (teachers.ts)
// trains real LlamaGen / VAR networks on its sequences; tests use it directly as a FlowTeacher.

import { Rng } from '../../tensor/rng.js';
import type { FlowTeacher, TokenPicker } from '../teacher.js';

export class MarkovTeacher implements FlowTeacher {
  readonly name = 'markov test teacher';
  readonly settings = {};
  readonly codebook: Float32Array;
  /** first[c, v] and trans[c, u, v] probabilities. */
  readonly first: Float32Array;
  readonly trans: Float32Array;
  calls = 0;

  /** Codebook, first-token and transition tables are drawn from Rng(seed, stream). */
  constructor(
    readonly numClasses: number,
    readonly vocab: number,
    readonly seqLen: number,
    readonly codeDim: number,
    seed: number,
    stream = 0,
  ) {
    const rng = new Rng(seed, stream);
    this.codebook = rng.normal(vocab * codeDim) as Float32Array;
    const sharp = (n: number) => {
      const z = rng.normal(n);
      return Float32Array.from(z, (v) => Math.exp(2.5 * v));
    };
    this.first = normRows(sharp(numClasses * vocab), vocab);
    this.trans = normRows(sharp(numClasses * vocab * vocab), vocab);
  }

  /** Row of p(x_j | x_{j−1} = prev, class c) [V]. */
  transRow(c: number, prev: number): Float32Array {
    const V = this.vocab;
    return this.trans.subarray((c * V + prev) * V, (c * V + prev + 1) * V);
  }

  generate(classes: Int32Array, pick: TokenPicker): Int32Array {
    const B = classes.length;
    const V = this.vocab;
    const L = this.seqLen;
    const out = new Int32Array(B * L);
    for (let j = 0; j < L; j++) {
      const probs = new Float32Array(B * V);
      for (let b = 0; b < B; b++) {
        const c = classes[b] as number;
        const row =
          j === 0
            ? this.first.subarray(c * V, (c + 1) * V)
            : this.transRow(c, out[b * L + j - 1] as number);
        probs.set(row, b * V);
      }
      this.calls++;
      const t = pick(probs, j, 1);
      for (let b = 0; b < B; b++) out[b * L + j] = t[b] as number;
    }
    return out;
  }

  /** Exact probability of a token sequence under class c. */
  prob(c: number, seq: ArrayLike<number>): number {
    const V = this.vocab;
    let p = this.first[c * V + (seq[0] as number)] as number;
    for (let j = 1; j < seq.length; j++)
      p *= this.trans[(c * V + (seq[j - 1] as number)) * V + (seq[j] as number)] as number;
    return p;
  }
}

function normRows(a: Float32Array, n: number): Float32Array {
  for (let r = 0; r < a.length / n; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[r * n + j] as number;
    for (let j = 0; j < n; j++) a[r * n + j] = (a[r * n + j] as number) / s;
  }
  return a;
}
