// Tiny but real teachers for the toy experiment (`ddar toy-joint`, test/dd-train-*.test.ts): a
// src/models/llamagen Transformer (2×2 token grid) and a src/models/var VAR (patch_nums [1, 2],
// 5 tokens), each trained for a few hundred AdamW steps on sequences of a known, strongly
// dependent class-conditional Markov chain (markov.ts), with 10% label dropout so the null class
// (CFG) is trained too. Their VQ codebooks are the codebooks of real (tiny, random) VQModel /
// VQVAE instances. Small enough that the exact joint over all V^L sequences can be enumerated.
//
// Randomness: every generator is Rng(base, seed) with a fixed base per role (chain 7, weights
// 11/21, codebook 12/22, training batches 13/23), so `seed` picks a different chain, teacher
// and data while seed 0 stays the published run.
//
// LlamaGen data: x_0 ~ first[c], x_j ~ trans[c, x_{j−1}] (a chain in raster order).
// VAR data: x_0 ~ first[c] (scale 0), the 4 tokens of scale 1 i.i.d. ~ trans[c, x_0] — exactly
// representable by VAR, whose tokens inside a scale are conditionally independent.
//
// Letters: B batch, L tokens, V codebook size.

import { gptConfig, type VqConfig } from '../../models/llamagen/config.js';
import { Transformer, randomizeGpt } from '../../models/llamagen/gpt.js';
import { VQModel } from '../../models/llamagen/vq.js';
import type { VqvaeConfig } from '../../models/var/config.js';
import { randomInit_ } from '../../nn/init.js';
import { VAR } from '../../models/var/var.js';
import { VQVAE } from '../../models/var/vqvae.js';
import { AdamW, paramGroupsByDecay } from '../../nn/adamw.js';
import type { Module } from '../../nn/module.js';
import { sampleCategorical } from '../../sampling/categorical.js';
import * as T from '../../tensor/index.js';
import type { FlowTeacher } from '../teacher.js';
import {
  llamagenFlowTeacher,
  varFlowTeacher,
  type LlamagenDataSettings,
  type VarDataSettings,
} from '../teachers.js';
import type { Family } from '../train/config.js';
import { llamagenStudent, varStudent, type DDStudent } from '../train/student.js';
import { MarkovTeacher } from './markov.js';

export const TINY = { classes: 2, vocab: 8, codeDim: 4 } as const;

export interface TinyTrainOpts {
  /** AdamW steps on fresh chain batches. */
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  /** Picks the chain, the initial weights and the training batches (0: the published run). */
  readonly seed: number;
  /** Called after every step with (steps done, steps total). */
  readonly onStep?: (done: number, total: number) => void;
}

export const TINY_TRAIN: TinyTrainOpts = { steps: 300, batch: 64, lr: 3e-3, seed: 0 };

/** The chain the teachers learn (class-conditional, sharp rows). */
export function tinyChain(seqLen: number, seed = 0): MarkovTeacher {
  return new MarkovTeacher(TINY.classes, TINY.vocab, seqLen, TINY.codeDim, 7, seed);
}

/** Class labels [B] and chain sequences [B, L]; `star`: every later token depends on x_0. */
export function chainBatch(
  chain: MarkovTeacher,
  B: number,
  L: number,
  rng: T.Rng,
  star: boolean,
): { labels: Int32Array; tokens: Int32Array } {
  const V = TINY.vocab;
  const labels = rng.randint(B, TINY.classes);
  const tokens = new Int32Array(B * L);
  const rows = new Float32Array(B * V);
  labels.forEach((c, b) => rows.set(chain.first.subarray(c * V, (c + 1) * V), b * V));
  const x0 = sampleCategorical(rows, B, V, rng);
  for (let b = 0; b < B; b++) tokens[b * L] = x0[b] as number;
  for (let j = 1; j < L; j++) {
    labels.forEach((c, b) =>
      rows.set(chain.transRow(c, tokens[b * L + (star ? 0 : j - 1)] as number), b * V),
    );
    const x = sampleCategorical(rows, B, V, rng);
    for (let b = 0; b < B; b++) tokens[b * L + j] = x[b] as number;
  }
  return { labels, tokens };
}

/** 10% of labels replaced by the null class (num_classes). */
function dropLabels(labels: Int32Array, rng: T.Rng): Int32Array {
  const u = rng.uniform(labels.length);
  return labels.map((c, i) => ((u[i] as number) < 0.1 ? TINY.classes : c));
}

/** AdamW on lossOf(step) for o.steps steps; returns the last loss. */
function fit(model: Module, o: TinyTrainOpts, lossOf: (step: number) => T.Tensor): number {
  const opt = new AdamW(paramGroupsByDecay(model, 0), { lr: o.lr, betas: [0.9, 0.99] });
  let last = NaN;
  for (let s = 0; s < o.steps; s++) {
    opt.zeroGrad();
    const loss = lossOf(s);
    T.backward(loss);
    opt.step();
    last = loss.item();
    o.onStep?.(s + 1, o.steps);
  }
  return last;
}

export interface TinyLlamagen {
  readonly gpt: Transformer;
  readonly vq: VQModel;
  readonly chain: MarkovTeacher;
  readonly finalLoss: number;
}

export const TINY_VQ: VqConfig = {
  codebook_size: TINY.vocab,
  codebook_embed_dim: TINY.codeDim,
  codebook_l2_norm: true,
  codebook_show_usage: false,
  encoder_ch_mult: [1],
  decoder_ch_mult: [1],
  z_channels: 32,
  dropout_p: 0,
  ch: 32,
  num_res_blocks: 1,
};

/** A 2-layer, width-32 LlamaGen GPT over a 2×2 grid of 8 codes, trained on the chain. */
export function tinyLlamagen(o: TinyTrainOpts = TINY_TRAIN): TinyLlamagen {
  const L = 4;
  const cfg = gptConfig(null, {
    dim: 32,
    n_layer: 2,
    n_head: 2,
    multiple_of: 16,
    vocab_size: TINY.vocab,
    block_size: L,
    num_classes: TINY.classes,
    class_dropout_prob: 0.1,
  });
  const gpt = randomizeGpt(new Transformer(cfg), new T.Rng(11, o.seed));
  for (const [name, t] of gpt.namedParameters())
    if (name.includes('embedding'))
      for (let i = 0; i < t.size; i++) t.data[i] = (t.data[i] as number) * 0.1;
  const vq = new VQModel(TINY_VQ);
  const cb = vq.quantize.embedding.weight.data;
  cb.set(new T.Rng(12, o.seed).normal(cb.length));
  const chain = tinyChain(L, o.seed);
  const rng = new T.Rng(13, o.seed);
  gpt.train();
  const finalLoss = fit(gpt, o, () => {
    const { labels, tokens } = chainBatch(chain, o.batch, L, rng, false);
    const B = o.batch;
    const inp = new Int32Array(B * (L - 1));
    for (let b = 0; b < B; b++) inp.set(tokens.subarray(b * L, b * L + L - 1), b * (L - 1));
    const logits = gpt.forward(
      new T.Tensor(inp, [B, L - 1]),
      new T.Tensor(dropLabels(labels, rng), [B]),
    ); // [B, L, V]
    return T.crossEntropy(T.reshape(logits, [B * L, TINY.vocab]), new T.Tensor(tokens, [B * L]));
  });
  gpt.eval();
  return { gpt, vq, chain, finalLoss };
}

export interface TinyVar {
  readonly model: VAR;
  readonly vae: VQVAE;
  readonly chain: MarkovTeacher;
  readonly finalLoss: number;
}

export const TINY_VQVAE: VqvaeConfig = {
  vocab_size: TINY.vocab,
  z_channels: TINY.codeDim,
  ch: 16,
  encoder_ch_mult: [1, 1],
  decoder_ch_mult: [1, 1],
  num_res_blocks: 1,
  using_sa: false,
  using_mid_sa: false,
  groupnorm_groups: 8,
  using_znorm: false,
  quant_conv_ks: 1,
  quant_resi: 0.5,
  share_quant_resi: 1,
  v_patch_nums: [1, 2],
};

/** A depth-2, width-32 VAR over patch_nums [1, 2] (5 tokens) of 8 codes, trained on the
 *  star-shaped chain (scale-1 tokens depend on the scale-0 token). */
export function tinyVar(o: TinyTrainOpts = TINY_TRAIN): TinyVar {
  const model = new VAR({
    depth: 2,
    embed_dim: 32,
    num_heads: 2,
    mlp_ratio: 2,
    norm_eps: 1e-6,
    attn_l2_norm: true,
    shared_aln: false,
    num_classes: TINY.classes,
    cond_drop_rate: 0.1,
    patch_nums: [1, 2],
    vocab_size: TINY.vocab,
    Cvae: TINY.codeDim,
  });
  randomInit_(model, new T.Rng(21, o.seed));
  const vae = randomInit_(new VQVAE(TINY_VQVAE), new T.Rng(22, o.seed));
  const L = 5;
  const chain = tinyChain(L, o.seed);
  const rng = new T.Rng(23, o.seed);
  const q = vae.quantize;
  model.train();
  const finalLoss = fit(model, o, () => {
    const B = o.batch;
    const { labels, tokens } = chainBatch(chain, B, L, rng, true);
    const idx0 = new Int32Array(B);
    const idx1 = new Int32Array(B * 4);
    for (let b = 0; b < B; b++) {
      idx0[b] = tokens[b * L] as number;
      idx1.set(tokens.subarray(b * L + 1, b * L + 5), b * 4);
    }
    const x = T.noGrad(() => q.idxBlToVarInput([idx0, idx1], B));
    const logits = model.forward(dropLabels(labels, rng), x); // [B, L, V]
    return T.crossEntropy(T.reshape(logits, [B * L, TINY.vocab]), new T.Tensor(tokens, [B * L]));
  });
  model.eval();
  return { model, vae, chain, finalLoss };
}

/** The toy teachers' sampling settings: CFG 1.5 and top-k 6 of the 8 codes, so guidance and
 *  filtering shape p exactly as in real data generation (VAR: its per-scale CFG ramp). */
export const TOY_LLAMAGEN_SETTINGS: LlamagenDataSettings = {
  cfgScale: 1.5,
  cfgInterval: -1,
  temperature: 1,
  topK: 6,
  topP: 1,
};
export const TOY_VAR_SETTINGS: VarDataSettings = { cfg: 1.5, topK: 6, topP: 0 };

interface ToyTeacherBase {
  /** The teacher as sampled (settings applied); its generate() is the exact joint's source. */
  readonly flow: FlowTeacher;
  readonly chain: MarkovTeacher;
  /** Cross-entropy of the last teacher training step, after `steps` steps. */
  readonly finalLoss: number;
  readonly steps: number;
  /** A DD student initialised from this teacher (fresh parts drawn from rng). */
  newStudent(rng: T.Rng): DDStudent;
}
export interface ToyLlamagenTeacher extends ToyTeacherBase, TinyLlamagen {
  readonly family: 'llamagen';
}
export interface ToyVarTeacher extends ToyTeacherBase, TinyVar {
  readonly family: 'var';
}
export type ToyTeacher = ToyLlamagenTeacher | ToyVarTeacher;

/** Trains the tiny teacher of `family` and wraps it for flow-map data generation. */
export function toyTeacher(family: Family, o: TinyTrainOpts = TINY_TRAIN): ToyTeacher {
  if (family === 'llamagen') {
    const t = tinyLlamagen(o);
    return {
      family,
      ...t,
      steps: o.steps,
      flow: llamagenFlowTeacher('tiny llamagen', t.gpt, t.vq, TOY_LLAMAGEN_SETTINGS),
      newStudent: (rng) => llamagenStudent(t.gpt, t.vq, rng),
    };
  }
  const t = tinyVar(o);
  return {
    family,
    ...t,
    steps: o.steps,
    flow: varFlowTeacher('tiny var', t.model, t.vae, TOY_VAR_SETTINGS),
    newStudent: (rng) => varStudent(t.model, t.vae, rng),
  };
}
