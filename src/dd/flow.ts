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
// which is stable for V = 16384 and t → 1. Entries whose posterior weight falls below e^-40
// of the largest are dropped as the flow goes on (posteriors only sharpen), which makes the
// late, fine steps cheap.

const PRUNE_NATS = 40;

import { kernels } from '../backend/registry.js';

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
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`flow map: steps must be a positive integer, got ${steps}`);
  const t = new Float64Array(steps + 1);
  for (let i = 0; i <= steps; i++) {
    const s = i / steps;
    t[i] = grid === 'uniform' ? s : 1 - (1 - s) * (1 - s);
  }
  t[steps] = 1;
  return t;
}

/** Maps N positions: probs [N, V] (each row a distribution; zeros outside the support),
 *  codebook [V, d], noise [N, d]. Runs on the active backend's flowMap kernel; every backend
 *  performs the same float64 operations, so tokens are identical across backends. */
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
    throw new Error(
      `flow map: expected probs [N, ${V}], codebook [${V}, ${d}], noise [N, ${d}]; got ${probs.length}, ${codebook.length}, ${noise.length} values`,
    );
  }
  // Compact supports: row r owns entries rowStart[r] … rowStart[r+1]−1.
  const rowStart = new Int32Array(N + 1);
  let total = 0;
  for (let i = 0; i < probs.length; i++) if (probs[i]! > 0) total++;
  const idx = new Int32Array(total);
  const logp = new Float64Array(total);
  let e = 0;
  for (let r = 0; r < N; r++) {
    rowStart[r] = e;
    for (let k = 0; k < V; k++) {
      const pk = probs[r * V + k]!;
      if (!(pk > 0)) continue;
      idx[e] = k;
      logp[e] = Math.log(pk);
      e++;
    }
    if (e === rowStart[r])
      throw new Error(`flow map: distribution ${r} has no positive probability`);
  }
  rowStart[N] = e;
  const tokens = new Int32Array(N);
  const endpoints = new Float32Array(N * d);
  const finalWeight = new Float32Array(N);
  kernels().flowMap(
    rowStart,
    idx,
    logp,
    codebook,
    noise,
    timeGrid(opts.steps, opts.grid),
    tokens,
    endpoints,
    finalWeight,
    {
      rows: N,
      d,
      steps: opts.steps,
      heun: opts.solver === 'heun',
      pruneNats: PRUNE_NATS,
    },
  );
  return { tokens, endpoints, finalWeight };
}
