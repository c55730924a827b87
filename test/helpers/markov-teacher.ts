// A tiny exact AR teacher for tests: a class-conditional first-order Markov chain over V
// codebook vectors, with a closed-form joint distribution (for enumeration). It is a real
// autoregressive model — p(x_j | x_{j-1}, class) — with strongly dependent tokens.

import type { FlowTeacher, TokenPicker } from '../../src/dd/teacher.js';
import { Rng } from '../../src/tensor/rng.js';

export class MarkovTeacher implements FlowTeacher {
  readonly name = 'markov test teacher';
  readonly settings = {};
  readonly codebook: Float32Array;
  /** first[c, v] and trans[c, u, v] probabilities. */
  readonly first: Float32Array;
  readonly trans: Float32Array;
  calls = 0;

  constructor(
    readonly numClasses: number,
    readonly vocab: number,
    readonly seqLen: number,
    readonly codeDim: number,
    seed: number,
  ) {
    const rng = new Rng(seed);
    this.codebook = rng.normal(vocab * codeDim) as Float32Array;
    const sharp = (n: number) => {
      const z = rng.normal(n);
      return Float32Array.from(z, (v) => Math.exp(2.5 * v));
    };
    this.first = normRows(sharp(numClasses * vocab), vocab);
    this.trans = normRows(sharp(numClasses * vocab * vocab), vocab);
  }

  generate(classes: Int32Array, pick: TokenPicker): Int32Array {
    const B = classes.length;
    const V = this.vocab;
    const L = this.seqLen;
    const out = new Int32Array(B * L);
    for (let j = 0; j < L; j++) {
      const probs = new Float32Array(B * V);
      for (let b = 0; b < B; b++) {
        const c = classes[b]!;
        const row = j === 0 ? this.first.subarray(c * V, (c + 1) * V) : this.trans.subarray((c * V + out[b * L + j - 1]!) * V, (c * V + out[b * L + j - 1]! + 1) * V);
        probs.set(row, b * V);
      }
      this.calls++;
      const t = pick(probs, j, 1);
      for (let b = 0; b < B; b++) out[b * L + j] = t[b]!;
    }
    return out;
  }

  /** Exact probability of a token sequence under class c. */
  prob(c: number, seq: ArrayLike<number>): number {
    const V = this.vocab;
    let p = this.first[c * V + seq[0]!]!;
    for (let j = 1; j < seq.length; j++) p *= this.trans[(c * V + seq[j - 1]!) * V + seq[j]!]!;
    return p;
  }
}

function normRows(a: Float32Array, n: number): Float32Array {
  for (let r = 0; r < a.length / n; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[r * n + j]!;
    for (let j = 0; j < n; j++) a[r * n + j] = a[r * n + j]! / s;
  }
  return a;
}
