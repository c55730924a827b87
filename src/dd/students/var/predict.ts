// What the samplers do with the student's two heads (VAR/models/dd.py): perturb_data (keep the
// first cum_t tokens, put the original noise on the rest), final_predict (data positions pass
// through — the input vector and one-hot logits at its nearest codebook row — noise positions
// take the model), get_final_sequence (greedy codebook rows before the concat position P of
// split_t, continuous-head vectors from P on), and the nearest-codebook search they rely on.
//
// `ddStep` is the fused form the samplers use: it runs the logits head only on the rows whose
// argmax is used ([cum_t, P)), the continuous head only on [max(P, cum_t), L), and the nearest-
// codebook search only on data rows; its result equals get_final_sequence(final_predict(…)).
// The official code finds nearest rows with a [V, B, L, Cv] difference tensor (2.85 GB for
// d16 at batch 8); here it is a chunked ‖e‖² − 2x·e GEMM plus an exact re-check of the close
// candidates, so memory stays O(rows·V) per chunk.
//
// Letters: B batch, L tokens, V codebook size, Cv codebook dim, N rows, t timestep, P concat
// position.

import { argmaxRows } from '../../../sampling/argmax.js';
import { nearestCodebook as nearestRows } from '../../nearest.js';
import * as T from '../../../tensor/index.js';
import { concatPos, dataTokens, type DDSchedule } from './config.js';
import type { Timesteps, VarDD } from './student.js';
import { perturbData } from '../../noise.js';

/** The shared nearest-codebook search (src/dd/nearest.ts) on tensors: x [N, Cv], codebook
 *  [V, Cv] → int32 [N]. */
export function nearestCodebook(x: T.Tensor, codebook: T.Tensor): Int32Array {
  const [, d] = x.shape as [number, number];
  if (
    x.rank !== 2 ||
    codebook.rank !== 2 ||
    codebook.shape[1] !== d ||
    !(x.data instanceof Float32Array) ||
    !(codebook.data instanceof Float32Array)
  ) {
    throw new Error(
      `nearestCodebook: expected float32 x [N, Cv] and codebook [V, Cv] with the same Cv, got [${x.shape.join(', ')}] and [${codebook.shape.join(', ')}]`,
    );
  }
  return nearestRows(x.data, codebook.data, d);
}

/** Per-sample data-token counts cum_t [B]. */
function dataCounts(s: DDSchedule, t: Int32Array): Int32Array {
  return t.map((tb) => dataTokens(s, tb));
}

/** perturb_data(x, t, noise): tokens [0, cum_t) of x, the rest from noise; x, noise [B, L, Cv]. */
export function perturb(model: VarDD, x: T.Tensor, t: Timesteps, noise: T.Tensor): T.Tensor {
  const [B, L, Cv] = x.shape as [number, number, number];
  if (!T.sameShape(x.shape, noise.shape)) {
    throw new Error(
      `perturb: x [${x.shape.join(', ')}] and noise [${noise.shape.join(', ')}] differ`,
    );
  }
  const cum = dataCounts(model.sched, model.timesteps(t, B));
  return new T.Tensor(perturbData(x.data as Float32Array, noise.data as Float32Array, cum, L, Cv), [B, L, Cv]);
}

/** final_predict: (conti [B, L, Cv], logits [B, L, V]) with the data positions j < cum_t taken
 *  from the input (the vector itself; logits 0 at its nearest codebook row, −∞ elsewhere). */
export function finalPredict(
  model: VarDD,
  codebook: T.Tensor,
  labels: Int32Array,
  x: T.Tensor,
  t: Timesteps,
): { conti: T.Tensor; logits: T.Tensor } {
  return T.noGrad(() => {
    const [B, L, Cv] = x.shape as [number, number, number];
    const V = codebook.shape[0] as number;
    const cum = dataCounts(model.sched, model.timesteps(t, B));
    const out = model.forward(labels, x, t);
    const conti = new Float32Array(out.conti.data);
    const logits = new Float32Array(out.logits.data);
    for (let b = 0; b < B; b++) {
      const n = cum[b] as number;
      if (n === 0) continue;
      conti.set(x.data.subarray(b * L * Cv, (b * L + n) * Cv), b * L * Cv);
      const idx = nearestCodebook(T.narrow(T.reshape(x, [B * L, Cv]), 0, b * L, n), codebook);
      logits.fill(-Infinity, b * L * V, (b * L + n) * V);
      idx.forEach((v, j) => (logits[(b * L + j) * V + v] = 0));
    }
    return { conti: new T.Tensor(conti, [B, L, Cv]), logits: new T.Tensor(logits, [B, L, V]) };
  });
}

/** get_final_sequence(conti, logits, split_t): tokens j < P are codebook[argmax logits[j]],
 *  the rest conti[j] (unquantized). conti [B, L, Cv], logits [B, L, V] → [B, L, Cv]. */
export function getFinalSequence(
  s: DDSchedule,
  codebook: T.Tensor,
  conti: T.Tensor,
  logits: T.Tensor,
  splitT: number,
): T.Tensor {
  const [B, L, Cv] = conti.shape as [number, number, number];
  const V = codebook.shape[0] as number;
  const P = concatPos(s, splitT);
  const out = new Float32Array(conti.data);
  const cb = codebook.data;
  for (let b = 0; b < B; b++) {
    const idx = argmaxRows(logits.data.subarray(b * L * V, (b * L + P) * V) as Float32Array, P, V);
    idx.forEach((v, j) => out.set(cb.subarray(v * Cv, (v + 1) * Cv), (b * L + j) * Cv));
  }
  return new T.Tensor(out, [B, L, Cv]);
}

/** One DD step, fused: equals getFinalSequence(finalPredict(labels, x, t), split_t) but runs
 *  each head only where its output is used. x [B, L, Cv] (already perturbed) → [B, L, Cv]. */
export function ddStep(
  model: VarDD,
  codebook: T.Tensor,
  labels: Int32Array,
  x: T.Tensor,
  t: Timesteps,
  splitT: number,
): T.Tensor {
  return T.noGrad(() => {
    const [B, L, Cv] = x.shape as [number, number, number];
    const V = codebook.shape[0] as number;
    const s = model.sched;
    const cum = dataCounts(s, model.timesteps(t, B));
    const P = concatPos(s, splitT);
    const minCum = Math.min(...cum);
    const hid = model.hidden(labels, x, t);
    // Logits rows [lb, P) and conti rows [cb, L) cover every sample's noise positions in use.
    const lb = Math.min(minCum, P);
    const logits = P > lb ? model.logitsOf(hid, lb, P - lb).data : new Float32Array(0);
    const cb = Math.max(P, minCum);
    const conti = L > cb ? model.contiOf(hid, cb, L - cb).data : new Float32Array(0);
    const out = new Float32Array(B * L * Cv);
    const xd = x.data;
    const E = codebook.data;
    const xRows = T.reshape(x, [B * L, Cv]);
    for (let b = 0; b < B; b++) {
      const n = cum[b] as number;
      const base = b * L * Cv;
      // Data tokens: the nearest codebook row before P (one-hot argmax), the input from P on.
      const nNear = Math.min(n, P);
      const near =
        nNear > 0 ? nearestCodebook(T.narrow(xRows, 0, b * L, nNear), codebook) : new Int32Array(0);
      near.forEach((v, j) => out.set(E.subarray(v * Cv, (v + 1) * Cv), base + j * Cv));
      if (n > P) out.set(xd.subarray(base + P * Cv, base + n * Cv), base + P * Cv);
      // Noise tokens: greedy codebook rows before P, continuous-head vectors from P on.
      const gBegin = Math.max(n, lb);
      if (P > gBegin) {
        const rows = logits.subarray((b * (P - lb) + gBegin - lb) * V, (b * (P - lb) + P - lb) * V);
        const idx = argmaxRows(rows as Float32Array, P - gBegin, V);
        idx.forEach((v, j) => out.set(E.subarray(v * Cv, (v + 1) * Cv), base + (gBegin + j) * Cv));
      }
      const cBegin = Math.max(n, P);
      if (L > cBegin) {
        const src = conti.subarray((b * (L - cb) + cBegin - cb) * Cv, (b * (L - cb) + L - cb) * Cv);
        out.set(src, base + cBegin * Cv);
      }
    }
    return new T.Tensor(out, [B, L, Cv]);
  });
}
