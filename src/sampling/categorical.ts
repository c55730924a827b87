// Drawing from categorical distributions with the seeded counter-based generator.

import type { Rng } from '../tensor/rng.js';

/** One index per row of probs [rows, V] by inverse CDF on one uniform per row (float64
 *  accumulation, normalised by the row total so rounding never falls off the end). */
export function sampleCategorical(probs: Float32Array, rows: number, V: number, rng: Rng): Int32Array {
  const u = rng.uniform(rows);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const off = r * V;
    let total = 0;
    for (let j = 0; j < V; j++) total += probs[off + j] as number;
    const target = (u[r] as number) * total;
    let cum = 0;
    let pick = -1;
    for (let j = 0; j < V; j++) {
      const p = probs[off + j] as number;
      if (p <= 0) continue;
      cum += p;
      pick = j;
      if (cum > target) break;
    }
    if (pick < 0) throw new Error(`sampleCategorical: row ${r} has no positive probability`);
    out[r] = pick;
  }
  return out;
}
