// VAR sampling, scale by scale with a KV cache written in place (autoregressive_infer_cfg), and
// its continuation from a given prefix of scales (intermediate_sample, used by the teacher-
// involved DD sampler). Classifier-free guidance doubles the batch (conditional rows first,
// null-class rows second); scale k is guided with w = cfg·k/(SN−1) as (1 + w)·ℓ_c − w·ℓ_u; the
// guided logits are filtered with top-k then VAR's top-p and sampled with one uniform per token
// from an explicit counter-based Rng. See var-dd.md §3.7–§3.9.
//
// Letters: B images, 2B rows with CFG, pn side of scale k, V codebook size, Cv codebook dim,
// C width, HW side of f̂.

import { FusedSampler, cfgMix } from '../../sampling/index.js';
import * as T from '../../tensor/index.js';
import type { VectorQuantizer2 } from './quant.js';
import type { VAR } from './var.js';
import type { VQVAE } from './vqvae.js';

/** Replaces sampling: picks one index per row of guided logits [rows, V] (e.g. argmax for
 *  parity with fixtures that swapped multinomial sampling for argmax). */
export type TokenChooser = (logits: Float32Array, rows: number, V: number, k: number) => Int32Array;

/** What one scale produced (for parity checks and progress). */
export interface ScaleStep {
  readonly k: number;
  /** Head output for the doubled batch [2B, pn², V] (cond rows, then null-class rows). */
  readonly rawLogits: T.Tensor;
  /** Guided logits handed to the sampler, before top-k/top-p, [B·pn²·V]. */
  readonly cfgLogits: Float32Array;
  /** Chosen indices [B·pn²], row-major within each image. */
  readonly idx: Int32Array;
  /** f̂ after this scale [B, Cv, HW, HW]. */
  readonly fhat: T.Tensor;
  /** The next-scale map area(f̂, pn_{k+1}) [B, Cv, pn', pn'] (null at the last scale). */
  readonly next: T.Tensor | null;
}

export interface VarGenerateOptions {
  /** Class labels [B]; num_classes (e.g. 1000) means unconditional. */
  readonly labels: Int32Array;
  /** Guidance ratio (official default 1.5; DD's teacher-involved sampler uses 2.0). */
  readonly cfg?: number;
  /** Keep the k largest logits per token (0 = off; VAR's FID setting 900). */
  readonly topK?: number;
  /** VAR's nucleus rule (0 = off; FID setting 0.96). */
  readonly topP?: number;
  /** Source of the sampling uniforms (required unless `choose` is given). */
  readonly rng?: T.Rng;
  /** Deterministic replacement of sampling (parity tests). */
  readonly choose?: TokenChooser;
  /** Continue from a prefix (intermediate_sample): the first cum_{startT} token vectors of
   *  `tokens` [B, ≥ cum_{startT}, Cv] are taken as given, and run through the blocks in one pass
   *  with no mask, as released (var-dd.md G12). */
  readonly prefix?: { readonly tokens: T.Tensor; readonly startT: number };
  /** Exclusive last scale to generate (default: all SN scales). */
  readonly endPoint?: number;
  readonly onScale?: (step: ScaleStep) => void;
}

export interface VarGenerateResult {
  /** Indices of the generated scales startT..endPoint−1, each [B·pn²]. */
  readonly idx: Int32Array[];
  /** Prefix tokens as given, then the generated codebook rows: [B, cum_{endPoint}, Cv]. */
  readonly sequence: T.Tensor;
  /** f̂ of scales < endPoint [B, Cv, HW, HW]. */
  readonly fhat: T.Tensor;
}

/** Top-k, then VAR's top-p, then one categorical draw per row of guided logits [rows, V]
 *  (the picks of src/sampling's topKFilter_ → topPFilterVar_ → softmaxRows →
 *  sampleCategorical, computed by the FusedSampler). */
export function sampleVarTokens(
  logits: Float32Array,
  rows: number,
  V: number,
  topK: number,
  topP: number,
  rng: T.Rng,
  sampler: FusedSampler = new FusedSampler(),
): Int32Array {
  return sampler.sample(logits, rows, V, { topK, topP, rule: 'var' }, rng);
}

/** Per-scale generation; returns tokens and f̂ (decode with VQVAE.fhatToImg). */
export function generate(
  model: VAR,
  quant: VectorQuantizer2,
  opts: VarGenerateOptions,
): VarGenerateResult {
  return T.noGrad(() => generateNoGrad(model, quant, opts));
}

function generateNoGrad(
  model: VAR,
  quant: VectorQuantizer2,
  opts: VarGenerateOptions,
): VarGenerateResult {
  const { SN, patchNums, cum, HW } = model.sched;
  const cfgV = model.config;
  if (quant.V !== cfgV.vocab_size || quant.Cv !== cfgV.Cvae || quant.sched.SN !== SN) {
    throw new Error(
      `generate: the VQVAE (V ${quant.V}, Cv ${quant.Cv}, ${quant.sched.SN} scales) does not match the VAR (V ${cfgV.vocab_size}, Cvae ${cfgV.Cvae}, ${SN} scales)`,
    );
  }
  if (quant.sched.patchNums.some((p, i) => p !== patchNums[i])) {
    throw new Error('generate: the VQVAE and the VAR were built with different patch_nums');
  }
  const labels = opts.labels;
  const B = labels.length;
  if (B === 0) throw new Error('generate: no labels given');
  const cfg = opts.cfg ?? 1.5;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 0;
  const startT = opts.prefix?.startT ?? 0;
  const endPoint = opts.endPoint ?? SN;
  if (!Number.isInteger(startT) || startT < 0 || startT > endPoint || endPoint > SN) {
    throw new Error(`generate: need 0 ≤ startT (${startT}) ≤ endPoint (${endPoint}) ≤ ${SN}`);
  }
  if (!opts.choose && !opts.rng)
    throw new Error('generate: pass an rng (or a chooser) to sample tokens');
  const V = cfgV.vocab_size;
  const Cv = cfgV.Cvae;

  const uncond = new Int32Array(B).fill(model.numClasses);
  const both = new Int32Array(2 * B);
  both.set(labels);
  both.set(uncond, B);
  const cond = model.conditioning(model.classCond(both)); // [2B, C] and its modulations
  const lp = model.lvlPos(); // [1, L, C]
  const double = (t: T.Tensor): T.Tensor => T.concat([t, t], 0);
  /** word_embed(map) + lvlPos for scale k: map [B, Cv, pn, pn] → [2B, pn², C]. */
  const inputsOf = (map: T.Tensor, k: number): T.Tensor => {
    const pn = patchNums[k] as number;
    const x = T.transpose(T.reshape(map, [B, Cv, pn * pn]), 1, 2);
    return double(model.tokenInputs(x, lp, cum[k] as number));
  };

  const sampler = new FusedSampler();
  let fhat = T.zeros([B, Cv, HW, HW]);
  const seq: T.Tensor[] = [];
  const idxOut: Int32Array[] = [];
  let input = model.startTokens(cond.cond, lp); // [2B, first_l, C]
  let prefixLogits: T.Tensor | null = null;
  model.startCache(2 * B, cum[endPoint] as number);
  try {
    if (startT > 0) {
      const tokens = opts.prefix?.tokens as T.Tensor;
      if (
        tokens.rank !== 3 ||
        tokens.shape[0] !== B ||
        (tokens.shape[1] as number) < (cum[startT] as number) ||
        tokens.shape[2] !== Cv
      ) {
        throw new Error(
          `generate: prefix tokens must be [${B}, ≥${cum[startT]}, ${Cv}], got [${tokens.shape.join(', ')}]`,
        );
      }
      const inputs = [input];
      for (let k = 0; k < startT; k++) {
        const pn = patchNums[k] as number;
        const tok = T.narrow(tokens, 1, cum[k] as number, pn * pn); // [B, pn², Cv]
        seq.push(tok);
        const step = quant.nextAutoregressiveInput(k, fhat, quant.tokensToMap(tok, pn));
        fhat = step.fhat;
        if (k < SN - 1) inputs.push(inputsOf(step.next, k + 1));
      }
      if (startT < endPoint) {
        const x = T.concat(inputs, 1); // [2B, cum_{startT+1}, C]
        const h = model.runBlocks(x, cond, { kind: 'cache' });
        const pn = patchNums[startT] as number;
        prefixLogits = model.getLogits(T.narrow(h, 1, cum[startT] as number, pn * pn), cond);
        input = inputs[inputs.length - 1] as T.Tensor;
      }
    }
    for (let k = startT; k < endPoint; k++) {
      const pn = patchNums[k] as number;
      const rows = B * pn * pn;
      let logits: T.Tensor; // [2B, pn², V]
      if (k === startT && prefixLogits) logits = prefixLogits;
      else logits = model.getLogits(model.runBlocks(input, cond, { kind: 'cache' }), cond);
      const ld = logits.data as Float32Array;
      const w = (cfg * k) / (SN - 1);
      const guided = cfgMix(ld.subarray(0, rows * V), ld.subarray(rows * V, 2 * rows * V), 1 + w);
      const cfgCopy = opts.choose && opts.onScale ? guided.slice() : guided; // the sampler leaves it as is
      const idx = opts.choose
        ? opts.choose(guided, rows, V, k)
        : sampler.sample(guided, rows, V, { topK, topP, rule: 'var' }, opts.rng as T.Rng);
      const emb = T.embedding(quant.embedding.weight, new T.Tensor(idx, [B, pn * pn])); // [B, pn², Cv]
      seq.push(emb);
      idxOut.push(idx);
      const step = quant.nextAutoregressiveInput(k, fhat, quant.tokensToMap(emb, pn));
      fhat = step.fhat;
      const last = k === SN - 1;
      if (!last && k + 1 < endPoint) input = inputsOf(step.next, k + 1);
      opts.onScale?.({
        k,
        rawLogits: logits,
        cfgLogits: cfgCopy,
        idx,
        fhat,
        next: last ? null : step.next,
      });
    }
  } finally {
    model.stopCache();
  }
  const sequence = seq.length > 0 ? T.concat(seq, 1) : T.zeros([B, 0, Cv]);
  return { idx: idxOut, sequence, fhat };
}

/** autoregressive_infer_cfg: sample and decode, images [B, 3, H, W] in [−1, 1] (clamped; the
 *  official return value is (img + 1)/2). */
export function sampleImages(
  model: VAR,
  vae: VQVAE,
  opts: VarGenerateOptions,
): { images: T.Tensor; result: VarGenerateResult } {
  const result = generate(model, vae.quantize, opts);
  return { images: vae.fhatToImg(result.fhat), result };
}
