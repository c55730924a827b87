// The per-token flow map of Distilled Decoding (DESIGN.md §1): for one position, the teacher's
// sampling distribution p over the codebook C (V×d) and a noise vector ε ∈ R^d, integrate the
// flow-matching ODE of the linear path x_t = (1−t)·x_0 + t·x_1 (x_0 ~ N(0, I), x_1 ~ p) from
// t = 0 to t = 1 with the closed-form velocity
//     v(x, t) = (m(x, t) − x) / (1 − t),  m(x, t) = Σ_k w_k c_k,
//     w = softmax_k( log p_k − ‖x − t·c_k‖² / (2(1−t)²) ),
// and return the codebook entry it lands on. The map ε ↦ token is deterministic and pushes
// N(0, I) onto p as the step count grows (see flow.test.ts for the measured convergence).
//
// Letters: N positions mapped at once, V codebook size, S support size (entries with p > 0),
// d codebook dimension. Posterior weights are computed in log space, in float64, from
//     log w_k = log p_k + (t·x·c_k − t²‖c_k‖²/2) / (1−t)² + const,
// which is stable for V = 16384 and t → 1.

export type FlowSolver = 'euler' | 'heun';
export type FlowGrid = 'uniform' | 'quadratic';

export interface FlowMapOpts {
  /** Number of integration steps n (network-free; cost O(n·S·d) per position). */
  readonly steps: number;
  /** 'euler' steps in x1-prediction form; 'heun' adds a corrector on every step but the last. */
  readonly solver: FlowSolver;
  /** 'uniform' t_i = i/n; 'quadratic' t_i = 1 − (1 − i/n)², denser near the data end. */
  readonly grid: FlowGrid;
}

/** Default chosen by measurement (`node dist/bench/flow-steps.js`; support 500 of V = 4096,
 *  d = 8, 20 000 draws, χ²/dof over 482 dof): Euler/quadratic 8 → 3.26, 16 → 1.55, 32 → 1.10,
 *  64 → 0.94; Heun/quadratic 8 → 1.08, 16 → 0.92. Heun with 16 steps (31 posterior
 *  evaluations) is indistinguishable from p and cheaper than Euler with 64. */
export const DEFAULT_FLOW: FlowMapOpts = { steps: 16, solver: 'heun', grid: 'quadratic' };

export interface FlowMapResult {
  /** [N] the codebook index each position lands on. */
  readonly tokens: Int32Array;
  /** [N, d] the ODE end point before snapping (m at the last evaluated time). */
  readonly endpoints: Float32Array;
  /** [N] posterior weight of the chosen entry at the last evaluated time (near 1 = decided). */
  readonly finalWeight: Float32Array;
}

export function timeGrid(steps: number, grid: FlowGrid): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`flow map: steps must be a positive integer, got ${steps}`);
  const t = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) {
    const s = i / steps;
    t[i] = grid === 'uniform' ? s : 1 - (1 - s) * (1 - s);
  }
  t[steps] = 1;
  return t;
}

/** Scratch for one position: the support of p gathered contiguously. */
class Support {
  idx: Int32Array;
  logp: Float64Array;
  c: Float64Array; // [S, d]
  half: Float64Array; // ‖c_k‖² / 2
  w: Float64Array;
  size = 0;
  constructor(
    V: number,
    readonly d: number,
  ) {
    this.idx = new Int32Array(V);
    this.logp = new Float64Array(V);
    this.c = new Float64Array(V * d);
    this.half = new Float64Array(V);
    this.w = new Float64Array(V);
  }

  load(p: Float32Array, pOff: number, V: number, codebook: Float32Array): void {
    const d = this.d;
    let s = 0;
    for (let k = 0; k < V; k++) {
      const pk = p[pOff + k] as number;
      if (!(pk > 0)) continue;
      this.idx[s] = k;
      this.logp[s] = Math.log(pk);
      let nn = 0;
      for (let j = 0; j < d; j++) {
        const v = codebook[k * d + j] as number;
        this.c[s * d + j] = v;
        nn += v * v;
      }
      this.half[s] = nn / 2;
      s++;
    }
    if (s === 0) throw new Error('flow map: a distribution has no positive probability');
    this.size = s;
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

/** Maps N positions: probs [N, V] (each row a distribution; zeros outside the support),
 *  codebook [V, d], noise [N, d]. */
export function flowMap(
  probs: Float32Array,
  codebook: Float32Array,
  noise: Float32Array,
  V: number,
  d: number,
  opts: FlowMapOpts = DEFAULT_FLOW,
): FlowMapResult {
  const N = probs.length / V;
  if (!Number.isInteger(N) || codebook.length !== V * d || noise.length !== N * d) {
    throw new Error(`flow map: expected probs [N, ${V}], codebook [${V}, ${d}], noise [N, ${d}]; got ${probs.length}, ${codebook.length}, ${noise.length} values`);
  }
  const ts = timeGrid(opts.steps, opts.grid);
  const sup = new Support(V, d);
  const x = new Float64Array(d);
  const m = new Float64Array(d);
  const xp = new Float64Array(d);
  const m2 = new Float64Array(d);
  const tokens = new Int32Array(N);
  const endpoints = new Float32Array(N * d);
  const finalWeight = new Float32Array(N);
  for (let r = 0; r < N; r++) {
    sup.load(probs, r * V, V, codebook);
    for (let j = 0; j < d; j++) x[j] = noise[r * d + j]!;
    let best = 0;
    for (let i = 0; i < opts.steps; i++) {
      const t = ts[i]!;
      const t1 = ts[i + 1]!;
      best = sup.mean(x, t, m);
      if (i === opts.steps - 1) {
        // The last step reaches t = 1: the x1-prediction update is x ← m.
        for (let j = 0; j < d; j++) x[j] = m[j]!;
        break;
      }
      const a = (1 - t1) / (1 - t);
      const b = (t1 - t) / (1 - t);
      if (opts.solver === 'euler') {
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
  return { tokens, endpoints, finalWeight };
}
