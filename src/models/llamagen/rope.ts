// LlamaGen's 2-D rotary position table (precompute_freqs_cis_2d in gpt.py), in float32 as the
// official code computes it. Letters: K condition tokens, G grid side, d head dim.
//
// Row p of the table is sequence position p. Rows 0..K−1 (condition tokens) are all zeros —
// cos = sin = 0, not the identity — so q and k of those positions are zeroed by the rotation.
// Row K + j is image token j at cell (⌊j/G⌋, j mod G); its d/2 angle pairs are
// [r·θ_0 … r·θ_{m−1}, c·θ_0 … c·θ_{m−1}] with θ_k = base^(−2k/(d/2)), m = d/4.

import { Tensor } from '../../tensor/index.js';

const f = Math.fround;

/** → [K + G², d/2, 2] of (cos, sin). */
export function precomputeFreqsCis2d(
  grid: number,
  headDim: number,
  base: number,
  clsTokenNum: number,
): Tensor {
  const half = Math.trunc(headDim / 2); // per-axis width h₂
  const m = Math.trunc(half / 2); // frequencies per axis
  const freqs = new Float32Array(m);
  for (let k = 0; k < m; k++) freqs[k] = f(1 / f(Math.pow(base, f((2 * k) / half))));
  const pairs = headDim / 2; // = 2m
  const data = new Float32Array((clsTokenNum + grid * grid) * pairs * 2);
  for (let r = 0; r < grid; r++) {
    for (let c = 0; c < grid; c++) {
      const row = (clsTokenNum + r * grid + c) * pairs * 2;
      for (let k = 0; k < m; k++) {
        const fk = freqs[k] as number;
        const a = f(r * fk);
        const b = f(c * fk);
        data[row + 2 * k] = Math.cos(a);
        data[row + 2 * k + 1] = Math.sin(a);
        data[row + 2 * (m + k)] = Math.cos(b);
        data[row + 2 * (m + k) + 1] = Math.sin(b);
      }
    }
  }
  return new Tensor(data, [clsTokenNum + grid * grid, pairs, 2]);
}
