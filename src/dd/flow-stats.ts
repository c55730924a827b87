// Statistics for checking that the flow map pushes N(0, I) onto p: a χ² goodness-of-fit of
// mapped tokens against p, with sparse bins merged so every expected count is ≥ 5.

import { Rng } from '../tensor/rng.js';
import { flowMap, type FlowMapOpts } from './flow.js';

export interface ChiSquare {
  readonly chi2: number;
  readonly dof: number;
  /** χ²/dof: ≈ 1 when the samples follow p. */
  readonly ratio: number;
}

export function chiSquare(counts: ArrayLike<number>, probs: ArrayLike<number>, n: number): ChiSquare {
  const order = Array.from({ length: probs.length }, (_, i) => i).filter((i) => (probs[i] as number) > 0);
  order.sort((a, b) => (probs[a] as number) - (probs[b] as number));
  let chi2 = 0;
  let bins = 0;
  let accE = 0;
  let accO = 0;
  for (const i of order) {
    accE += (probs[i] as number) * n;
    accO += counts[i] as number;
    if (accE >= 5) {
      chi2 += (accO - accE) ** 2 / accE;
      bins++;
      accE = 0;
      accO = 0;
    }
  }
  if (accE > 0) {
    chi2 += (accO - accE) ** 2 / Math.max(accE, 1e-12);
    bins++;
  }
  const dof = Math.max(bins - 1, 1);
  return { chi2, dof, ratio: chi2 / dof };
}

/** A random test problem: codebook [V, d] of unit vectors, p with `support` entries drawn from
 *  a log-normal spread (weights differ by ~e^±2). */
export function randomProblem(seed: number, V: number, d: number, support: number): { codebook: Float32Array; p: Float32Array } {
  const rng = new Rng(seed);
  const codebook = rng.normal(V * d) as Float32Array;
  for (let k = 0; k < V; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += codebook[k * d + j]! ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < d; j++) codebook[k * d + j] = codebook[k * d + j]! * inv;
  }
  const p = new Float32Array(V);
  const pick = rng.randint(support * 4, V);
  const logits = rng.normal(support);
  let chosen = 0;
  for (let i = 0; i < pick.length && chosen < support; i++) {
    const k = pick[i]!;
    if (p[k]! > 0) continue;
    p[k] = Math.exp(logits[chosen]!);
    chosen++;
  }
  let z = 0;
  for (const v of p) z += v;
  for (let k = 0; k < V; k++) p[k] = p[k]! / z;
  return { codebook, p };
}

/** Maps `draws` fresh noise vectors through the flow map of one distribution and tests the
 *  token frequencies against p. */
export function flowFit(codebook: Float32Array, p: Float32Array, d: number, draws: number, seed: number, opts: FlowMapOpts): ChiSquare {
  const V = p.length;
  const noise = new Rng(seed, 1).normal(draws * d) as Float32Array;
  const probs = new Float32Array(draws * V);
  for (let i = 0; i < draws; i++) probs.set(p, i * V);
  const { tokens } = flowMap(probs, codebook, noise, V, d, opts);
  const counts = new Float64Array(V);
  for (const t of tokens) counts[t] = counts[t]! + 1;
  return chiSquare(counts, p, draws);
}
