// The pieces of the official DD samplers around the student's forward pass (dd.py and
// eval_fewstep.py): perturb_data, the nearest-codebook search, final_predict (clamping the
// known part) and get_final_x_BLC (merging the two heads at split_t), plus the token → latent
// reshape for the VQ decoder. Plain loops over Float32Arrays: nothing here is quadratic in V
// or materialises the official [V, B, L, c] distance tensor.
//
// Letters: B batch, L image tokens, c codebook dim, V codebook size, G grid side (G² = L).

import { argmaxRows } from '../../../sampling/argmax.js';
import * as T from '../../../tensor/index.js';
import type { Tensor } from '../../../tensor/index.js';
import type { DDTransformer } from './student.js';
import { timestepsOf, type Timestep } from './student.js';
import { perturbData as perturbNoise } from '../../noise.js';

function f32(what: string, t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array))
    throw new Error(`${what}: expected float32 data, got ${t.dtype} [${t.shape.join(', ')}]`);
  return t.data;
}

/** perturb_data: x_t[b, j] = data[b, j] for j < t_b, else noise[b, j] (both [B, L, c]). */
export function perturbData(
  data: Float32Array,
  noise: Float32Array,
  t: Timestep,
  B: number,
  L: number,
  c: number,
): Float32Array {
  return perturbNoise(data, noise, Int32Array.from(timestepsOf(t, B), (v) => Math.ceil(v)), L, c);
}

export { nearestCodebook } from '../../nearest.js';

export interface FinalPrediction {
  /** [B, L, c]: the input x_t at known positions (j < t), the continuous head elsewhere. */
  readonly tokens: Tensor;
  /** [B, L, V]: one-hot logits (0 at idx, −∞ elsewhere) at known positions, model logits
   *  elsewhere. */
  readonly logits: Tensor;
}

/** final_predict(x_t, labels, t, idx): the student's two heads with the known part clamped.
 *  x_t [B, L, c], idx int32 [B, L] (nearest codebook rows of x_t; only j < t are read). */
export function finalPredict(
  model: DDTransformer,
  xT: Tensor,
  labels: Tensor,
  t: Timestep,
  idx: Int32Array,
): FinalPrediction {
  const { block_size: L, vocab_size: V, codebook_dim: c } = model.config;
  const B = xT.shape[0] as number;
  if (idx.length !== B * L)
    throw new Error(`finalPredict: idx must be [${B}, ${L}], got ${idx.length} values`);
  const ts = timestepsOf(t, B);
  const out = model.forward(xT, labels, ts);
  const tok = f32('finalPredict', out.tokens).slice();
  const lg = f32('finalPredict', out.logits).slice();
  const xd = f32('finalPredict', xT);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < L && j < (ts[b] as number); j++) {
      const r = b * L + j;
      const k = idx[r] as number;
      if (k < 0 || k >= V) throw new Error(`finalPredict: idx ${k} is outside [0, ${V})`);
      lg.fill(-Infinity, r * V, (r + 1) * V);
      lg[r * V + k] = 0;
      tok.set(xd.subarray(r * c, (r + 1) * c), r * c);
    }
  }
  return { tokens: new T.Tensor(tok, [B, L, c]), logits: new T.Tensor(lg, [B, L, V]) };
}

/** get_final_x_BLC((tokens, logits), split_t): codebook[argmax logits[j]] for j < split_t, the
 *  continuous tokens (not snapped, not renormalised) for j ≥ split_t. → [B, L, c]. */
export function getFinalX(fp: FinalPrediction, splitT: number, codebook: Tensor): Tensor {
  const [B, L, c] = fp.tokens.shape as [number, number, number];
  const V = fp.logits.shape[2] as number;
  checkSplit(splitT);
  checkCodebook('getFinalX', codebook, V, c);
  const cb = f32('getFinalX', codebook);
  const tok = f32('getFinalX', fp.tokens);
  const lg = f32('getFinalX', fp.logits);
  const out = new Float32Array(B * L * c);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < L; j++) {
      const r = b * L + j;
      if (j < splitT) {
        const k = argmaxRows(lg.subarray(r * V, (r + 1) * V), 1, V)[0] as number;
        out.set(cb.subarray(k * c, (k + 1) * c), r * c);
      } else out.set(tok.subarray(r * c, (r + 1) * c), r * c);
    }
  }
  return new T.Tensor(out, [B, L, c]);
}

export function checkSplit(splitT: number): void {
  if (!Number.isInteger(splitT) || splitT < 0) {
    throw new Error(
      `split_t must be a non-negative integer (the first position taken from the continuous head), got ${splitT}`,
    );
  }
}

/** Throws unless codebook is float32 [V, c]. */
export function checkCodebook(what: string, codebook: Tensor, V: number, c: number): void {
  if (codebook.rank !== 2 || codebook.shape[0] !== V || codebook.shape[1] !== c) {
    throw new Error(
      `${what}: the codebook must be [${V}, ${c}] (the VQ's l2-normalised codebook: vocab_size × codebook_dim), got [${codebook.shape.join(', ')}]`,
    );
  }
  f32(what, codebook);
}

/** Token vectors [B, L, c] → decoder latent [B, c, G, G] (reshape to (B, G, G, c), then
 *  channels first, as eval_fewstep does). */
export function toLatent(x: Tensor): Tensor {
  const [B, L, c] = x.shape as [number, number, number];
  const G = Math.round(Math.sqrt(L));
  if (x.rank !== 3 || G * G !== L)
    throw new Error(`toLatent: expected [B, G², c] token vectors, got [${x.shape.join(', ')}]`);
  return T.permute(T.reshape(x, [B, G, G, c]), [0, 3, 1, 2]);
}
