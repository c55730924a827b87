// The LlamaGen Distilled-Decoding student (autoregressive/models/dd.py, class DDTransformer),
// read top to bottom: the continuous head (FinalLayer), the noise/data flags, the student.
// Attributes carry the official names, so the state dict keys are the checkpoint's
// (`tok_embeddings.weight`, `n_d_embed.weight`, `final_layer_conti.scale_shift_table`, …).
// The transformer blocks are the teacher's (models/llamagen/gpt.ts), reused as they are.
//
// Letters: B batch, L image tokens (block_size = G²), D width, V vocabulary, c codebook dim,
// S = L + 1 sequence positions (position 0 is the class token, position j + 1 image token j).
//
// Differences from the teacher (reference §4.1): tok_embeddings is a Linear(c → D) with bias
// fed continuous vectors (codebook rows or noise); n_d_embed [2, D] adds a flag at every
// position, the class token included (row 1 = data, row 0 = noise); a second head regresses
// the continuous token; after dropping position 0, output row j is the prediction for image
// token j itself (not the next token); one full causal pass, no KV cache, no CFG.

import * as T from '../../../tensor/index.js';
import type { Rng, Tensor } from '../../../tensor/index.js';
import { Embedding, Linear, RMSNorm } from '../../../nn/layers.js';
import { Module, param } from '../../../nn/module.js';
import { normal_, randomizeTransformer_ } from '../../../nn/init.js';
import { gptDims, type GptDims } from '../../../models/llamagen/config.js';
import { LabelEmbedder, TransformerBlock } from '../../../models/llamagen/gpt.js';
import { precomputeFreqsCis2d } from '../../../models/llamagen/rope.js';
import { validateDDConfig, type DDConfig } from './config.js';

/** The timestep of every sample: a number (all samples) or one value per sample [B]. Image
 *  tokens j < t are known data, j ≥ t noise. Compared as floats, as the official code does. */
export type Timestep = number | ArrayLike<number>;

/** → one float64 timestep per sample; throws unless there are B finite values. */
export function timestepsOf(t: Timestep, B: number): Float64Array {
  const out = new Float64Array(B);
  if (typeof t === 'number') out.fill(t);
  else {
    if (t.length !== B)
      throw new Error(`DDTransformer: ${t.length} timesteps given for a batch of ${B}`);
    for (let b = 0; b < B; b++) out[b] = t[b] as number;
  }
  for (const v of out)
    if (!Number.isFinite(v)) throw new Error(`DDTransformer: timestep ${v} is not finite`);
  return out;
}

/** Noise/data flags (reference §4.4): position p of S = L + 1 gets 1 (data) iff p ≤ t,
 *  else 0 (noise): the class token and image tokens j < t are data. → int32 [B, L + 1]. */
export function noiseDataFlags(t: Float64Array, L: number): Tensor {
  const B = t.length;
  const out = new Int32Array(B * (L + 1));
  for (let b = 0; b < B; b++) {
    const tb = t[b] as number;
    for (let p = 0; p <= L; p++) out[b * (L + 1) + p] = p <= tb ? 1 : 0;
  }
  return new T.Tensor(out, [B, L + 1]);
}

/** PixArt's final layer: LayerNorm (no affine, eps 1e-6) of the raw residual stream, modulated
 *  by shift = table[0] + e_c and scale = table[1] + e_c (the same raw class embedding e_c added
 *  to both rows; no timestep term), then Linear(D → c) with bias. */
export class FinalLayer extends Module {
  scale_shift_table: Tensor; // [2, D]
  linear: Linear; // [c, D] + [c]
  readonly eps = 1e-6;

  constructor(dim: number, out: number) {
    super();
    this.scale_shift_table = param(T.zeros([2, dim]));
    this.linear = new Linear(dim, out);
  }

  /** h [B, S, D], e_c [B, 1, D] → [B, S, c] */
  forward(h: Tensor, cond: Tensor): Tensor {
    const D = h.shape[2] as number;
    const ss = T.add(T.reshape(this.scale_shift_table, [1, 2, D]), cond); // [B, 2, D]
    const [shift, scale] = T.split(ss, 1, 1) as [Tensor, Tensor]; // [B, 1, D] each
    const y = T.add(T.mul(T.layerNorm(h, null, null, this.eps), T.add(scale, 1)), shift);
    return this.linear.forward(y);
  }
}

export interface DDForwardOpts {
  /** Compute the logits head only for image tokens [from, to) (default: all L). Sampling
   *  needs the argmax only where the discrete head is used, i.e. [t, split_t). */
  readonly logitsRange?: readonly [number, number];
}

export interface DDOutput {
  /** Continuous-token head, [B, L, c] (row j predicts image token j). */
  readonly tokens: Tensor;
  /** Logits head, [B, to − from, V] for the requested image tokens (all L by default). */
  readonly logits: Tensor;
}

/** The DD student. */
export class DDTransformer extends Module {
  cls_embedding: LabelEmbedder; // table [C + 1, D]
  tok_embeddings: Linear; // [D, c] + [D]
  layers: TransformerBlock[];
  norm: RMSNorm;
  output: Linear; // [V, D]
  final_layer_conti: FinalLayer;
  n_d_embed: Embedding; // [2, D]
  readonly config: DDConfig;
  readonly dims: GptDims;
  /** 2-D RoPE table [L + 1, d/2, 2] (runtime; the teacher's table, class row zero).
   *  initFromTeacher replaces it by the teacher's own table, as the official code does. */
  freqsCis: Tensor;

  constructor(config: DDConfig) {
    super();
    const c = validateDDConfig(config);
    this.config = c;
    this.dims = gptDims(c);
    // The student's LabelEmbedder always has the null row (dd.py ignores dropout_prob there).
    this.cls_embedding = new LabelEmbedder(c.num_classes, c.dim, 1);
    this.tok_embeddings = new Linear(c.codebook_dim, c.dim);
    this.layers = [];
    for (let i = 0; i < c.n_layer; i++) this.layers.push(new TransformerBlock(c, this.dims));
    this.norm = new RMSNorm(c.dim, c.norm_eps);
    this.output = new Linear(c.dim, c.vocab_size, { bias: false });
    this.final_layer_conti = new FinalLayer(c.dim, c.codebook_dim);
    this.n_d_embed = new Embedding(2, c.dim);
    this.freqsCis = precomputeFreqsCis2d(this.dims.grid, this.dims.headDim, c.rope_base, 1);
    this.eval();
  }

  /** x [B, L, c] (codebook rows before t, noise from t on), labels int32 [B], t per sample →
   *  both heads with the class position dropped. One full causal pass over L + 1 positions. */
  forward(x: Tensor, labels: Tensor, t: Timestep, opts: DDForwardOpts = {}): DDOutput {
    const c = this.config;
    const L = c.block_size;
    if (x.rank !== 3 || x.shape[1] !== L || x.shape[2] !== c.codebook_dim) {
      throw new Error(
        `DDTransformer: x must be [B, ${L}, ${c.codebook_dim}] (every image token, noise included), got [${x.shape.join(', ')}]`,
      );
    }
    const B = x.shape[0] as number;
    if (labels.dtype !== 'int32' || labels.rank !== 1 || labels.size !== B) {
      throw new Error(
        `DDTransformer: labels must be int32 [${B}], got ${labels.dtype} [${labels.shape.join(', ')}]`,
      );
    }
    const ts = timestepsOf(t, B);
    const [from, to] = opts.logitsRange ?? [0, L];
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > L || from > to) {
      throw new Error(`DDTransformer: logitsRange [${from}, ${to}) must lie within [0, ${L}]`);
    }
    const cond = this.cls_embedding.forward(labels); // [B, 1, D]
    const tok = this.tok_embeddings.forward(x); // [B, L, D]
    const flags = this.n_d_embed.forward(noiseDataFlags(ts, L)); // [B, L + 1, D]
    let h = T.add(T.concat([cond, tok], 1), flags); // [B, L + 1, D]
    const rows = this.freqsCis.shape[0] as number;
    if (rows < L + 1) {
      throw new Error(
        `DDTransformer: the RoPE table has ${rows} rows, fewer than the ${L + 1} positions (a teacher of another block_size?)`,
      );
    }
    const table = rows === L + 1 ? this.freqsCis : T.narrow(this.freqsCis, 0, 0, L + 1);
    for (const layer of this.layers) h = layer.forward(h, table, null);
    const body = T.narrow(h, 1, 1, L); // [B, L, D]: drop the class position
    const tokens = this.final_layer_conti.forward(body, cond); // [B, L, c]
    const V = c.vocab_size;
    const logits =
      to > from
        ? this.output.forward(
            this.norm.forward(from === 0 && to === L ? body : T.narrow(body, 1, from, to - from)),
          )
        : new T.Tensor(new Float32Array(0), [B, 0, V]); // [B, to − from, V]
    return { tokens, logits };
  }
}

/** Random weights for tests and benchmarks, in the fixtures' scheme: embeddings N(0, 1),
 *  linear weights N(0, 1/fan_in), biases N(0, 0.02²), norm weights 1 (+ N(0, normStd²)),
 *  scale_shift_table N(0, 1/D). */
export function randomizeDD(model: DDTransformer, rng: Rng, normStd = 0): DDTransformer {
  return randomizeTransformer_(model, rng, normStd, (name) =>
    name.endsWith('.bias')
      ? 0.02
      : name === 'final_layer_conti.scale_shift_table'
        ? 1 / Math.sqrt(model.config.dim)
        : name === 'n_d_embed.weight'
          ? 1
          : null,
  );
}
