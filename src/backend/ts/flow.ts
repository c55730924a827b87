// Reference kernel of the DD flow map (see src/dd/flow.ts for the method): integrates the
// flow-matching ODE of every row from its noise vector to a codebook entry, on compact supports
// (entries with p > 0, their log-probabilities computed by the caller). Float64 throughout;
// the native twin performs the same operations in the same order.

import type { FlowMapParams } from '../kernels.js';

/** Scratch for one position: the support of p gathered contiguously. */
class Support {
  idx: Int32Array;
  logp: Float64Array;
  c: Float64Array; // [S, d]
  half: Float64Array; // ‖c_k‖² / 2
  w: Float64Array;
  lw: Float64Array; // log-weights of the last evaluation
  size = 0;
  constructor(
    V: number,
    readonly d: number,
    readonly pruneNats: number,
  ) {
    this.idx = new Int32Array(V);
    this.logp = new Float64Array(V);
    this.c = new Float64Array(V * d);
    this.half = new Float64Array(V);
    this.w = new Float64Array(V);
    this.lw = new Float64Array(V);
  }

  /** Loads support entries [from, to) of the compact lists. */
  load(
    idx: Int32Array,
    logp: Float64Array,
    from: number,
    to: number,
    codebook: Float32Array,
  ): void {
    const d = this.d;
    let s = 0;
    for (let e = from; e < to; e++) {
      const k = idx[e]!;
      this.idx[s] = k;
      this.logp[s] = logp[e]!;
      let nn = 0;
      for (let j = 0; j < d; j++) {
        const v = codebook[k * d + j]!;
        this.c[s * d + j] = v;
        nn += v * v;
      }
      this.half[s] = nn / 2;
      s++;
    }
    this.size = s;
  }

  lastMax = 0;

  /** Drops the entries whose log-weight at the last evaluation was more than pruneNats below
   *  the largest (40 by default: weight < 4e-18 relative, below the float64 resolution of m).
   *  Posteriors only sharpen along the flow, so they do not come back; keeps support order, so
   *  ties still resolve to the first index. */
  prune(): number {
    const { d, lw: logw } = this;
    const cut = this.lastMax - this.pruneNats;
    let n = 0;
    for (let s = 0; s < this.size; s++) {
      if (logw[s]! < cut) continue;
      if (n !== s) {
        this.idx[n] = this.idx[s]!;
        this.logp[n] = this.logp[s]!;
        this.half[n] = this.half[s]!;
        for (let j = 0; j < d; j++) this.c[n * d + j] = this.c[s * d + j]!;
      }
      n++;
    }
    this.size = n;
    return n;
  }

  /** Posterior mean m(x, t) into m; returns the index (in the support) of the largest weight
   *  and leaves normalised weights in this.w. */
  mean(x: Float64Array, t: number, m: Float64Array): number {
    const { d, size, c, w } = this;
    const inv = 1 / ((1 - t) * (1 - t));
    let mx = -Infinity;
    let best = 0;
    for (let s = 0; s < size; s++) {
      let dot = 0;
      for (let j = 0; j < d; j++) dot += x[j]! * c[s * d + j]!;
      const l = this.logp[s]! + (t * dot - t * t * this.half[s]!) * inv;
      w[s] = l;
      this.lw[s] = l;
      if (l > mx) {
        mx = l;
        best = s;
      }
    }
    let z = 0;
    for (let s = 0; s < size; s++) {
      const e = Math.exp(w[s]! - mx);
      w[s] = e;
      z += e;
    }
    this.lastMax = mx;
    m.fill(0);
    const iz = 1 / z;
    for (let s = 0; s < size; s++) {
      const ws = w[s]! * iz;
      w[s] = ws;
      if (ws === 0) continue;
      for (let j = 0; j < d; j++) m[j] = m[j]! + ws * c[s * d + j]!;
    }
    return best;
  }
}

export function flowMap(
  rowStart: Int32Array,
  idx: Int32Array,
  logp: Float64Array,
  codebook: Float32Array,
  noise: Float32Array,
  ts: Float64Array,
  tokens: Int32Array,
  endpoints: Float32Array,
  finalWeight: Float32Array,
  p: FlowMapParams,
): void {
  const { rows: N, d, steps, heun } = p;
  let maxSupport = 0;
  for (let r = 0; r < N; r++) maxSupport = Math.max(maxSupport, rowStart[r + 1]! - rowStart[r]!);
  const sup = new Support(maxSupport, d, p.pruneNats);
  const x = new Float64Array(d);
  const m = new Float64Array(d);
  const xp = new Float64Array(d);
  const m2 = new Float64Array(d);
  for (let r = 0; r < N; r++) {
    sup.load(idx, logp, rowStart[r]!, rowStart[r + 1]!, codebook);
    for (let j = 0; j < d; j++) x[j] = noise[r * d + j]!;
    let best = 0;
    for (let i = 0; i < steps; i++) {
      const t = ts[i]!;
      const t1 = ts[i + 1]!;
      best = sup.mean(x, t, m);
      if (i > 0 && i < steps - 1) sup.prune();
      if (i === steps - 1) {
        // The last step reaches t = 1: the x1-prediction update is x ← m.
        for (let j = 0; j < d; j++) x[j] = m[j]!;
        break;
      }
      const a = (1 - t1) / (1 - t);
      const b = (t1 - t) / (1 - t);
      if (!heun) {
        for (let j = 0; j < d; j++) x[j] = a * x[j]! + b * m[j]!;
      } else {
        // Heun on dx/dt = (m − x)/(1 − t): average the velocities at t and at the predictor.
        const h = t1 - t;
        for (let j = 0; j < d; j++) xp[j] = a * x[j]! + b * m[j]!;
        sup.mean(xp, t1, m2);
        for (let j = 0; j < d; j++) {
          const v1 = (m[j]! - x[j]!) / (1 - t);
          const v2 = (m2[j]! - xp[j]!) / (1 - t1);
          x[j] = x[j]! + 0.5 * h * (v1 + v2);
        }
      }
    }
    tokens[r] = sup.idx[best]!;
    finalWeight[r] = sup.w[best]!;
    for (let j = 0; j < d; j++) endpoints[r * d + j] = x[j]!;
  }
}
