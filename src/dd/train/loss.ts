// The distillation objective. For sample b at timestep t_b the first n_b = dataTokens(t_b)
// tokens are given as data; every later position j ≥ n_b is predicted and supervised:
//   CE  = mean over predicted positions of −log softmax(logits[b, j])[target[b, j]]
//   MSE = mean over predicted positions of ‖conti[b, j] − codebook[target[b, j]]‖² / d
//   loss = ceWeight·CE + mseWeight·MSE
// Known positions carry no signal (final_predict overwrites them at sampling time).
//
// Letters: B batch, L tokens, V codebook size, d codebook dim.

import * as T from '../../tensor/index.js';
import type { StudentOutput } from './student.js';
import { perturbData } from '../noise.js';

export interface LossWeights {
  readonly ceWeight: number;
  readonly mseWeight: number;
}

export interface LossValue {
  /** The scalar to backpropagate. */
  readonly loss: T.Tensor;
  readonly ce: number;
  readonly mse: number;
  /** Predicted positions counted. */
  readonly count: number;
}

/** Target vectors codebook[targets] → [B·L·d] (float32). */
export function targetVectors(
  targets: Int32Array,
  codebook: Float32Array,
  d: number,
): Float32Array {
  const out = new Float32Array(targets.length * d);
  for (let i = 0; i < targets.length; i++) {
    const k = targets[i] as number;
    out.set(codebook.subarray(k * d, (k + 1) * d), i * d);
  }
  return out;
}

/** Student input: x[b, j] = data[b, j] for j < nData[b], else noise[b, j]. → [B, L, d]. */
export function studentInput(
  data: Float32Array,
  noise: Float32Array,
  nData: Int32Array,
  L: number,
  d: number,
): T.Tensor {
  return new T.Tensor(perturbData(data, noise, nData, L, d), [nData.length, L, d]);
}

/** The objective (see the header). out.logits [B, L, V], out.conti [B, L, d]; targets int32
 *  [B, L]; targetVecs [B·L·d]; nData [B]. */
export function ddLoss(
  out: StudentOutput,
  targets: Int32Array,
  targetVecs: Float32Array,
  nData: Int32Array,
  w: LossWeights,
): LossValue {
  const [B, L, V] = out.logits.shape as [number, number, number];
  const d = out.conti.shape[2] as number;
  if (targets.length !== B * L || targetVecs.length !== B * L * d || nData.length !== B)
    throw new Error(
      `ddLoss: targets must be [${B}, ${L}], target vectors [${B}, ${L}, ${d}] and nData [${B}]`,
    );
  const masked = new Int32Array(B * L);
  const mask = new Float32Array(B * L);
  let count = 0;
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < L; j++) {
      const r = b * L + j;
      const predicted = j >= (nData[b] as number);
      masked[r] = predicted ? (targets[r] as number) : -100;
      mask[r] = predicted ? 1 : 0;
      if (predicted) count++;
    }
  }
  if (count === 0)
    throw new Error(
      'ddLoss: no predicted positions in the batch (every timestep gives all tokens as data)',
    );
  const parts: T.Tensor[] = [];
  let ce = 0;
  let mse = 0;
  if (w.ceWeight > 0) {
    const ceT = T.crossEntropy(T.reshape(out.logits, [B * L, V]), new T.Tensor(masked, [B * L]), {
      ignoreIndex: -100,
    });
    ce = ceT.item();
    parts.push(w.ceWeight === 1 ? ceT : T.mul(ceT, w.ceWeight));
  }
  if (w.mseWeight > 0) {
    const diff = T.sub(out.conti, new T.Tensor(targetVecs, [B, L, d]));
    const sq = T.mul(T.square(diff), new T.Tensor(mask, [B, L, 1]));
    const mseT = T.mul(T.sum(sq), 1 / (count * d));
    mse = mseT.item();
    parts.push(w.mseWeight === 1 ? mseT : T.mul(mseT, w.mseWeight));
  }
  const loss =
    parts.length === 1 ? (parts[0] as T.Tensor) : T.add(parts[0] as T.Tensor, parts[1] as T.Tensor);
  return { loss, ce, mse, count };
}
