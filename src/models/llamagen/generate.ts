// Teacher sampling (generate.py's `generate` and `intermediate_generate`): prefill the condition
// (and an optional token prefix) into preallocated KV caches, then decode one token per step.
// CFG doubles the batch as [conditional rows; null-condition rows] and mixes the raw float32
// logits ℓ_u + s·(ℓ_c − ℓ_u) before temperature, top-k (ties kept) and top-p (LlamaGen's rule);
// every random draw comes from the caller's Rng (one uniform per sample per token).
//
// Letters: B samples, Be = 2B with CFG (else B), P prefix tokens, n new tokens, V vocabulary,
// c codebook dim, G grid side.

import * as T from '../../tensor/index.js';
import type { Rng, Tensor } from '../../tensor/index.js';
import { FusedSampler, cfgMix } from '../../sampling/index.js';
import type { KVCache } from './kv-cache.js';
import type { Transformer } from './gpt.js';
import type { VQModel } from './vq.js';

/** How logits become tokens (official defaults of eval_combine_sample.py: cfg 2, top-k 8000). */
export interface SamplingConfig {
  /** CFG scale s; guidance is on iff s > 1. */
  readonly cfgScale: number;
  /** −1: always guided; q ≥ 0: decode steps k > q use the conditional logits only. */
  readonly cfgInterval?: number;
  readonly temperature?: number;
  /** 0 = off. */
  readonly topK?: number;
  /** 1 = off. */
  readonly topP?: number;
}

export interface GenerateOptions extends SamplingConfig {
  /** Source of the sampling uniforms (required unless `choose` is given). */
  readonly rng?: Rng;
  /** Tokens to generate (default: the rest of the image, block_size − P). */
  readonly maxNewTokens?: number;
  /** Known leading tokens int32 [B, P] (intermediate_generate; needs cfgScale > 1 officially,
   *  accepted here with any scale). */
  readonly prefix?: Tensor;
  /** A cache to reuse (allocated when absent or too small). */
  readonly cache?: KVCache;
  /** Progress: called after every token with (tokens done, tokens total). */
  readonly onStep?: (done: number, total: number) => void;
  /** Replaces sampling (parity tests, forced runs): the CFG-mixed logits [B, V] handed to
   *  sample() at new-token index `step` → the chosen ids [B]. */
  readonly choose?: (logits: Float32Array, step: number) => Int32Array;
}

/** Draws one token per row of logits [rows, V] (not modified): temperature, top-k, top-p,
 *  softmax, inverse-CDF categorical with one uniform per row from rng (the fused sampler). */
export function sampleTokens(
  logits: Float32Array,
  rows: number,
  V: number,
  cfg: SamplingConfig,
  rng: Rng,
  sampler: FusedSampler = new FusedSampler(),
): Int32Array {
  return sampler.sample(logits, rows, V, { ...cfg, rule: 'llamagen' }, rng);
}

/** The condition batch with CFG: c2i labels [B] → [labels; null class]; t2i captions
 *  [B, Tc, C] → [captions; uncond_embedding]. */
export function cfgCondition(model: Transformer, cond: Tensor): Tensor {
  const e = model.cls_embedding;
  if (cond.dtype === 'int32') {
    const B = cond.size;
    const out = new Int32Array(2 * B);
    out.set(cond.data);
    out.fill(model.config.num_classes, B);
    return new T.Tensor(out, [2 * B]);
  }
  if (!('uncond_embedding' in e))
    throw new Error('generate: caption features given to a class-conditional model');
  const nul = T.expand(T.reshape(e.uncond_embedding, [1, ...e.uncond_embedding.shape]), cond.shape);
  return T.concat([cond, nul], 0);
}

function sampleCount(cond: Tensor): number {
  return cond.shape[0] as number;
}

/** Samples image tokens: → int32 [B, P + n] (the prefix, then the new tokens). */
export function generate(model: Transformer, cond: Tensor, opts: GenerateOptions): Tensor {
  const cfg = model.config;
  const B = sampleCount(cond);
  const V = cfg.vocab_size;
  const P = opts.prefix ? (opts.prefix.shape[1] as number) : 0;
  if (
    opts.prefix &&
    (opts.prefix.dtype !== 'int32' || opts.prefix.rank !== 2 || opts.prefix.shape[0] !== B)
  ) {
    throw new Error(
      `generate: prefix must be int32 [${B}, P], got ${opts.prefix.dtype} [${opts.prefix.shape.join(', ')}]`,
    );
  }
  const n = opts.maxNewTokens ?? cfg.block_size - P;
  if (!Number.isInteger(n) || n < 1 || P + n > cfg.block_size) {
    throw new Error(
      `generate: ${n} new tokens after a prefix of ${P} do not fit the ${cfg.block_size} image tokens`,
    );
  }
  const rng = (): Rng => {
    if (!opts.rng) throw new Error('generate: pass an rng (or a chooser) to sample tokens');
    return opts.rng;
  };
  const useCfg = opts.cfgScale > 1;
  const Be = useCfg ? 2 * B : B;
  const capacity = cfg.cls_token_num + P + n;
  const cache =
    opts.cache && opts.cache.fits(cfg.n_layer, Be, model.dims.kvHeads, capacity, model.dims.headDim)
      ? opts.cache
      : model.newCache(Be, capacity);
  cache.reset(Be);
  const interval = opts.cfgInterval ?? -1;
  const out = new Int32Array(B * (P + n)); // [B, P + n]
  if (opts.prefix)
    for (let b = 0; b < B; b++) out.set(opts.prefix.data.subarray(b * P, (b + 1) * P), b * (P + n));

  // logits [Be, 1, V] → CFG-mixed [B, V] (a fresh array that sampling may filter in place).
  const mix = (logits: Tensor, guided: boolean): Float32Array => {
    const d = logits.data;
    if (!(d instanceof Float32Array)) throw new Error('generate: logits must be float32');
    if (!useCfg) return d.slice(0, B * V);
    const c = d.subarray(0, B * V);
    return guided ? cfgMix(c, d.subarray(B * V, 2 * B * V), opts.cfgScale) : c.slice();
  };
  const sampler = new FusedSampler();
  const pick = (mixed: Float32Array, step: number): Int32Array => {
    const ids = opts.choose
      ? opts.choose(mixed, step)
      : sampleTokens(mixed, B, V, opts, rng(), sampler);
    if (ids.length !== B) throw new Error(`generate: ${ids.length} tokens chosen for ${B} samples`);
    for (let b = 0; b < B; b++) out[b * (P + n) + P + step] = ids[b] as number;
    opts.onStep?.(step + 1, n);
    return ids;
  };
  const dup = (ids: Int32Array): Tensor => {
    const t = new Int32Array(Be);
    t.set(ids);
    if (useCfg) t.set(ids, B);
    return new T.Tensor(t, [Be, 1]);
  };

  T.noGrad(() => {
    const condC = useCfg ? cfgCondition(model, cond) : cond;
    let idx: Tensor | null = null;
    if (opts.prefix) {
      const pre = new Int32Array(Be * P);
      pre.set(opts.prefix.data);
      if (useCfg) pre.set(opts.prefix.data, B * P);
      idx = new T.Tensor(pre, [Be, P]);
    }
    // Prefill: condition (+ prefix) → token P (always guided).
    let ids = pick(mix(model.forward(idx, condC, { cache, lastOnly: true }), true), 0);
    // Decode: the last token at each next position; decode step k gives new token k + 1.
    for (let k = 0; k < n - 1; k++) {
      const guided = !(interval > -1 && k > interval);
      const logits = model.forward(dup(ids), null, { cache });
      ids = pick(mix(logits, guided), k + 1);
    }
  });
  return new T.Tensor(out, [B, P + n]);
}

/** Token ids [B, G²] (raster order) → images [B, 3, G·f, G·f] through the VQ decoder. */
export function decodeTokens(vq: VQModel, tokens: Tensor): Tensor {
  const B = tokens.shape[0] as number;
  const L = tokens.size / B;
  const G = Math.round(Math.sqrt(L));
  if (G * G !== L) throw new Error(`decodeTokens: ${L} tokens per image do not form a square grid`);
  const c = vq.config.codebook_embed_dim;
  return T.noGrad(() => vq.decodeCode(tokens, [B, c, G, G]));
}
