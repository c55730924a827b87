// One view of the two DD students for the trainer, the validator and the tests: a forward pass
// with gradients at per-sample timesteps, the number of data tokens at a timestep, few-step
// sampling to token indices, and the default timesteps and position ranges of the family.
//
// Letters: B batch, L tokens, V codebook size, d codebook dim.

import type { Transformer } from '../../models/llamagen/gpt.js';
import type { VQModel } from '../../models/llamagen/vq.js';
import type { VAR } from '../../models/var/var.js';
import type { VQVAE } from '../../models/var/vqvae.js';
import type { Module } from '../../nn/module.js';
import * as T from '../../tensor/index.js';
import { ddConfig } from '../students/llamagen/config.js';
import { initFromTeacher as initLlamagen } from '../students/llamagen/init.js';
import { nearestCodebook } from '../students/llamagen/predict.js';
import { sampleFewStep } from '../students/llamagen/sample.js';
import { DDTransformer } from '../students/llamagen/student.js';
import { ddStep, perturb } from '../students/var/predict.js';
import { initFromTeacher as initVar, initVarDDWeights } from '../students/var/init.js';
import { VarDD } from '../students/var/student.js';
import type { Family } from './config.js';

export interface StudentOutput {
  readonly logits: T.Tensor; // [B, L, V]
  readonly conti: T.Tensor; // [B, L, d]
}

/** A named range of token positions [from, to) for per-range metrics. */
export interface PositionRange {
  readonly name: string;
  readonly from: number;
  readonly to: number;
}

export interface DDStudent {
  readonly family: Family;
  readonly module: Module;
  readonly seqLen: number;
  readonly vocab: number;
  readonly codeDim: number;
  readonly numClasses: number;
  /** [V, d] the target vectors (LlamaGen: the l2-normalised VQ codebook; VAR: the VQVAE's). */
  readonly codebook: Float32Array;
  /** Largest valid timestep (LlamaGen L − 1: t = L predicts nothing; VAR SN − 1). */
  readonly maxT: number;
  /** split_t that takes every position from the logits head (LlamaGen L, VAR SN). */
  readonly allLogitsSplit: number;
  /** [0, mid], the published t_list of the family scaled to this size. */
  readonly defaultTimesteps: readonly number[];
  /** Leading data tokens at timestep t. */
  dataTokens(t: number): number;
  /** Position ranges for validation (LlamaGen: quarters; VAR: scales). */
  readonly ranges: readonly PositionRange[];
  /** x [B, L, d] (data before dataTokens(t_b), noise after), labels [B], t [B] → both heads for
   *  every position; records gradients. */
  forward(x: T.Tensor, labels: Int32Array, t: Int32Array): StudentOutput;
  /** Decodes token vectors x [B, L, d] (as the VQ decoder's quantised input: LlamaGen's
   *  l2-normalised codebook space, VAR's per-scale maps summed into f̂) to images [B, 3, H, W]
   *  in about [−1, 1] (not clamped), recording gradients w.r.t. x only: the decoder's
   *  parameters are frozen (requiresGrad off) when the adapter is built. null when the adapter
   *  was built without its VQ (wrapLlamagen / wrapVar without a decoder). */
  readonly decodeLatent: ((x: T.Tensor) => T.Tensor) | null;
  /** Few-step sampling from ε [B, L, d] → token indices [B, L] (continuous-head positions are
   *  snapped to their nearest codebook row). No gradients. */
  sample(
    labels: Int32Array,
    noise: Float32Array,
    tList: readonly number[],
    splitT: number,
  ): Int32Array;
}

function snap(x: Float32Array, codebook: Float32Array, d: number): Int32Array {
  return nearestCodebook(x, codebook, d);
}

/** The LlamaGen student for `teacher` (same sizes, codebook_dim from the VQ), initialised with
 *  init_with_teacher (fresh parts drawn from rng). */
export function llamagenStudent(teacher: Transformer, vq: VQModel, rng: T.Rng): DDStudent {
  const cbT = vq.quantize.codebook();
  const [V, d] = cbT.shape as [number, number];
  const model = new DDTransformer(
    ddConfig(null, { ...teacher.config, class_dropout_prob: 0, codebook_dim: d }),
  );
  initLlamagen(model, teacher, rng);
  return wrapLlamagen(model, cbT.data as Float32Array, V, d, vq);
}

/** Turns off gradients of a frozen module's parameters (the VQ decoder under the LPIPS loss). */
function freeze(m: Module): void {
  for (const p of m.parameters()) p.requireGrad(false);
}

/** Wraps an existing LlamaGen student (e.g. for benchmarks or loaded weights); `vq` enables
 *  decodeLatent. */
export function wrapLlamagen(
  model: DDTransformer,
  codebook: Float32Array,
  V: number,
  d: number,
  vq: VQModel | null = null,
): DDStudent {
  const L = model.config.block_size;
  const side = Math.round(Math.sqrt(L));
  if (vq) {
    if (side * side !== L)
      throw new Error(`llamagen student: ${L} tokens are not a square grid; cannot decode`);
    freeze(vq.post_quant_conv);
    freeze(vq.decoder);
  }
  const cb = new T.Tensor(codebook, [V, d]);
  const q = Math.max(1, Math.floor(L / 4));
  const ranges: PositionRange[] = [];
  for (let a = 0; a < L; a += q)
    ranges.push({ name: `${a}-${Math.min(L, a + q) - 1}`, from: a, to: Math.min(L, a + q) });
  const mid = Math.min(L - 1, Math.max(1, Math.round((80 * L) / 256)));
  return {
    family: 'llamagen',
    module: model,
    seqLen: L,
    vocab: V,
    codeDim: d,
    numClasses: model.config.num_classes,
    codebook,
    maxT: L - 1,
    allLogitsSplit: L,
    defaultTimesteps: [0, mid],
    dataTokens: (t) => t,
    ranges,
    forward(x, labels, t) {
      const out = model.forward(x, new T.Tensor(labels, [labels.length]), Float64Array.from(t));
      return { logits: out.logits, conti: out.tokens };
    },
    // x [B, L, d] → latent [B, d, side, side] (raster order, as decodeCode) → image.
    decodeLatent: vq
      ? (x) => {
          const B = x.shape[0] as number;
          return vq.decode(T.reshape(T.transpose(x, 1, 2), [B, d, side, side]));
        }
      : null,
    sample(labels, noise, tList, splitT) {
      const x = sampleFewStep(model, labels, { tList, splitT, noise, codebook: cb });
      return snap(x.data as Float32Array, codebook, d);
    },
  };
}

/** The VAR student for `teacher`: the official fresh initialisation, then init_with_teacher. */
export function varStudent(teacher: VAR, vae: VQVAE, rng: T.Rng): DDStudent {
  const model = new VarDD({ ...teacher.config, n_d_embed_enable: true, layerwise_n_d_embed: true });
  initVarDDWeights(model, rng);
  initVar(model, teacher, rng);
  return wrapVar(model, vae.quantize.embedding.weight.data as Float32Array, vae);
}

/** Wraps an existing VAR student; `vae` enables decodeLatent. */
export function wrapVar(model: VarDD, codebook: Float32Array, vae: VQVAE | null = null): DDStudent {
  const { L, SN, cum, patchNums } = model.sched.teacher;
  if (vae) {
    freeze(vae.quantize);
    freeze(vae.post_quant_conv);
    freeze(vae.decoder);
  }
  const V = model.config.vocab_size;
  const d = model.config.Cvae;
  const cb = new T.Tensor(codebook, [V, d]);
  return {
    family: 'var',
    module: model,
    seqLen: L,
    vocab: V,
    codeDim: d,
    numClasses: model.config.num_classes,
    codebook,
    maxT: SN - 1,
    allLogitsSplit: SN,
    defaultTimesteps: [0, Math.max(1, Math.floor(SN / 2))],
    dataTokens: (t) => cum[t] as number,
    ranges: patchNums.map((pn, k) => ({
      name: `scale ${k} (${pn}×${pn})`,
      from: cum[k] as number,
      to: cum[k + 1] as number,
    })),
    forward(x, labels, t) {
      return model.forward(labels, x, t);
    },
    // x [B, L, d]: scale k's tokens [B, pn², d] → map [B, d, pn, pn]; f̂ = Σ_k Φ_k(Up_k(map_k))
    // (embed_to_fhat) → decoder(post_quant_conv(f̂)), as fhat_to_img before its clamp.
    decodeLatent: vae
      ? (x) => {
          const q = vae.quantize;
          const hs = patchNums.map((pn, k) =>
            q.tokensToMap(T.narrow(x, 1, cum[k] as number, pn * pn), pn),
          );
          const fhat = q.embedToFhat(hs)[SN - 1] as T.Tensor;
          return vae.decoder.forward(vae.post_quant_conv.forward(fhat));
        }
      : null,
    sample(labels, noise, tList, splitT) {
      const B = labels.length;
      const eps = new T.Tensor(noise, [B, L, d]);
      let x = eps;
      for (const t of tList) x = ddStep(model, cb, labels, perturb(model, x, t, eps), t, splitT);
      return snap(x.data as Float32Array, codebook, d);
    },
  };
}

/** Checks a timestep list against the student: integers in [0, maxT]. */
export function checkTimesteps(s: DDStudent, ts: readonly number[], what: string): void {
  for (const t of ts)
    if (!Number.isInteger(t) || t < 0 || t > s.maxT)
      throw new Error(
        `${what}: timestep ${t} is outside [0, ${s.maxT}] for the ${s.family} student (${s.family === 'var' ? 'a teacher scale index' : 'a token position'})`,
      );
}
