// LlamaGen GPT (autoregressive/models/gpt.py, class Transformer), read top to bottom:
// condition embedders, SwiGLU feed-forward, attention with 2-D RoPE and grouped K/V heads,
// pre-norm block, the transformer. Module attributes carry the official names, so the state
// dict keys are the checkpoint's (`layers.0.attention.wqkv.weight`, …).
//
// Letters: B batch, S positions fed in this call, D width, H heads, Hkv key/value heads,
// d head dim, F SwiGLU width, V vocabulary, K condition tokens, L image tokens (block_size),
// C caption feature width, Tc caption tokens.
//
// Sequence positions: 0..K−1 hold the condition, K + j holds image token j. The logit at
// position p predicts image token p − K + 1 (position K−1 predicts token 0).

import * as T from '../../tensor/index.js';
import type { Rng, Tensor } from '../../tensor/index.js';
import { Embedding, Linear, RMSNorm } from '../../nn/layers.js';
import { Module, buffer } from '../../nn/module.js';
import { normal_, randomizeTransformer_ } from '../../nn/init.js';
import { gptDims, validateGptConfig, type GptConfig, type GptDims } from './config.js';
import { precomputeFreqsCis2d } from './rope.js';
import { KVCache, ropeAndStore, type LayerKVCache } from './kv-cache.js';

function f32(op: string, t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array))
    throw new Error(`${op}: expected float32 data, got ${t.dtype}`);
  return t.data;
}

// ---- condition embedders ----------------------------------------------------------------------

/** Class label → one condition token. Row num_classes (present when class_dropout_prob > 0)
 *  is the null class used for classifier-free guidance. */
export class LabelEmbedder extends Module {
  embedding_table: Embedding; // [num_classes (+1), D]

  constructor(numClasses: number, dim: number, dropoutProb: number) {
    super();
    this.embedding_table = new Embedding(numClasses + (dropoutProb > 0 ? 1 : 0), dim);
  }

  /** labels int32 [B] → [B, 1, D] */
  forward(labels: Tensor): Tensor {
    const rows = this.embedding_table.weight.shape[0] as number;
    for (const l of labels.data) {
      if (!Number.isInteger(l) || l < 0 || l >= rows) {
        throw new Error(
          `LabelEmbedder: label ${l} is outside [0, ${rows}) (the last row is the CFG null class)`,
        );
      }
    }
    const e = this.embedding_table.forward(labels);
    return T.reshape(e, [labels.size, 1, e.shape[1] as number]);
  }
}

/** fc1 → GELU(tanh) → fc2, no biases (the caption projection). */
export class MLP extends Module {
  fc1: Linear;
  fc2: Linear;

  constructor(inF: number, hidden: number, outF: number) {
    super();
    this.fc1 = new Linear(inF, hidden, { bias: false });
    this.fc2 = new Linear(hidden, outF, { bias: false });
  }

  /** x [..., in] → [..., out] */
  forward(x: Tensor): Tensor {
    return this.fc2.forward(T.gelu(this.fc1.forward(x), 'tanh'));
  }
}

/** Precomputed caption features (e.g. T5) → condition tokens (text-to-image variant). The
 *  null caption for CFG is the learned `uncond_embedding` [120, C] buffer. */
export class CaptionEmbedder extends Module {
  cap_proj: MLP;
  uncond_embedding: Tensor; // [120, C]

  constructor(captionDim: number, dim: number, tokenNum = 120) {
    super();
    this.cap_proj = new MLP(captionDim, dim, dim);
    this.uncond_embedding = buffer(T.zeros([tokenNum, captionDim]));
  }

  /** caption [B, Tc, C] → [B, Tc, D] */
  forward(caption: Tensor): Tensor {
    return this.cap_proj.forward(caption);
  }
}

// ---- transformer parts ----------------------------------------------------------------------------

/** SwiGLU: w2(silu(w1 x) ⊙ w3 x). */
export class FeedForward extends Module {
  w1: Linear; // [F, D]
  w3: Linear; // [F, D]
  w2: Linear; // [D, F]

  constructor(dim: number, hidden: number) {
    super();
    this.w1 = new Linear(dim, hidden, { bias: false });
    this.w3 = new Linear(dim, hidden, { bias: false });
    this.w2 = new Linear(hidden, dim, { bias: false });
  }

  /** x [B, S, D] → [B, S, D] */
  forward(x: Tensor): Tensor {
    return this.w2.forward(T.mul(T.silu(this.w1.forward(x)), this.w3.forward(x)));
  }
}

/** Where an attention call reads and writes its keys and values. */
export interface CacheSlot {
  readonly layer: LayerKVCache;
  /** Sequence position of the first new row. */
  readonly pos: number;
}

/** Causal self-attention with fused qkv ([q: H·d | k: Hkv·d | v: Hkv·d] rows), 2-D RoPE on q
 *  and k, kv head g serving query heads g·r..g·r+r−1 (r = H/Hkv). */
export class Attention extends Module {
  wqkv: Linear; // [(H + 2·Hkv)·d, D]
  wo: Linear; // [D, D]
  readonly nHead: number;
  readonly nKvHead: number;
  readonly headDim: number;

  constructor(dim: number, nHead: number, nKvHead: number) {
    super();
    this.nHead = nHead;
    this.nKvHead = nKvHead;
    this.headDim = dim / nHead;
    this.wqkv = new Linear(dim, (nHead + 2 * nKvHead) * this.headDim, { bias: false });
    this.wo = new Linear(dim, dim, { bias: false });
  }

  /** x [B, S, D], table [S, d/2, 2] (RoPE rows of these positions) → [B, S, D].
   *  With a cache slot the new keys/values go into the cache (inference only) and the queries
   *  attend to every filled slot up to their own position. */
  forward(x: Tensor, table: Tensor, slot: CacheSlot | null): Tensor {
    const [B, S, D] = x.shape as [number, number, number];
    const H = this.nHead;
    const Hkv = this.nKvHead;
    const d = this.headDim;
    if (slot) {
      if (T.isGradEnabled())
        throw new Error('Attention: the KV-cache path is inference only; call it inside T.noGrad');
      const qkv = T.matmul(T.reshape(x, [B * S, D]), this.wqkv.weight, { transB: true }); // [B·S, (H+2Hkv)·d]
      const q = ropeAndStore(
        f32('Attention', qkv),
        f32('Attention', table),
        slot.layer,
        B,
        S,
        H,
        Hkv,
        d,
        slot.pos,
      );
      const [kc, vc] = slot.layer.rows(B); // [B, Hkv, Smax, d]
      const y = T.sdpa(q, kc, vc, {
        mask: { kind: 'causal', offset: slot.pos },
        kvLength: slot.pos + S,
      }); // [B, H, S, d]
      const merged = S === 1 ? T.reshape(y, [B, 1, D]) : T.reshape(T.transpose(y, 1, 2), [B, S, D]);
      return this.wo.forward(merged);
    }
    const qkv = this.wqkv.forward(x); // [B, S, (H+2Hkv)·d]
    const [q, k, v] = T.split(qkv, [H * d, Hkv * d, Hkv * d], 2) as [Tensor, Tensor, Tensor];
    const qh = T.transpose(T.rope(T.reshape(q, [B, S, H, d]), table), 1, 2); // [B, H, S, d]
    const kh = T.transpose(T.rope(T.reshape(k, [B, S, Hkv, d]), table), 1, 2); // [B, Hkv, S, d]
    const vh = T.transpose(T.reshape(v, [B, S, Hkv, d]), 1, 2);
    const y = T.sdpa(qh, kh, vh, { mask: { kind: 'causal', offset: 0 } }); // [B, H, S, d]
    return this.wo.forward(T.reshape(T.transpose(y, 1, 2), [B, S, D]));
  }
}

/** Pre-norm block: h = x + attn(norm(x)); out = h + ffn(norm(h)). */
export class TransformerBlock extends Module {
  attention: Attention;
  feed_forward: FeedForward;
  attention_norm: RMSNorm;
  ffn_norm: RMSNorm;

  constructor(c: GptConfig, dims: GptDims) {
    super();
    this.attention = new Attention(c.dim, c.n_head, dims.kvHeads);
    this.feed_forward = new FeedForward(c.dim, dims.ffnHidden);
    this.attention_norm = new RMSNorm(c.dim, c.norm_eps);
    this.ffn_norm = new RMSNorm(c.dim, c.norm_eps);
  }

  /** x [B, S, D] → [B, S, D] */
  forward(x: Tensor, table: Tensor, slot: CacheSlot | null): Tensor {
    const h = T.add(x, this.attention.forward(this.attention_norm.forward(x), table, slot));
    return T.add(h, this.feed_forward.forward(this.ffn_norm.forward(h)));
  }
}

export interface GptForwardOpts {
  /** KV cache to extend (inference only): the inputs sit at positions cache.len, cache.len+1, … */
  readonly cache?: KVCache;
  /** Compute the logits of the last position only (prefill and decode). */
  readonly lastOnly?: boolean;
}

/** The LlamaGen GPT. */
export class Transformer extends Module {
  tok_embeddings: Embedding; // [V, D]
  cls_embedding: LabelEmbedder | CaptionEmbedder;
  layers: TransformerBlock[];
  norm: RMSNorm;
  output: Linear; // [V, D]
  readonly config: GptConfig;
  readonly dims: GptDims;
  /** 2-D RoPE table [K + L, d/2, 2] (runtime, not in the state dict). */
  readonly freqsCis: Tensor;

  constructor(config: GptConfig) {
    super();
    const c = validateGptConfig(config);
    if (c.model_type === 'c2i' && c.cls_token_num !== 1) {
      throw new Error(
        `Transformer: the class-conditional model has one condition token; got cls_token_num ${c.cls_token_num}`,
      );
    }
    this.config = c;
    this.dims = gptDims(c);
    this.tok_embeddings = new Embedding(c.vocab_size, c.dim);
    this.cls_embedding =
      c.model_type === 'c2i'
        ? new LabelEmbedder(c.num_classes, c.dim, c.class_dropout_prob)
        : new CaptionEmbedder(c.caption_dim, c.dim);
    this.layers = [];
    for (let i = 0; i < c.n_layer; i++) this.layers.push(new TransformerBlock(c, this.dims));
    this.norm = new RMSNorm(c.dim, c.norm_eps);
    this.output = new Linear(c.dim, c.vocab_size, { bias: false });
    this.freqsCis = precomputeFreqsCis2d(
      this.dims.grid,
      this.dims.headDim,
      c.rope_base,
      c.cls_token_num,
    );
    this.eval();
  }

  /** Condition tokens: c2i labels int32 [B] (num_classes = null class) → [B, 1, D];
   *  t2i caption features [B, Tc, C] → [B, K, D]. */
  embedCondition(cond: Tensor): Tensor {
    const e = this.cls_embedding;
    if (e instanceof LabelEmbedder) {
      if (cond.dtype !== 'int32' || cond.rank !== 1) {
        throw new Error(
          `Transformer: class-conditional models take int32 labels [B], got ${cond.dtype} [${cond.shape.join(', ')}]`,
        );
      }
      return e.forward(cond);
    }
    const K = this.config.cls_token_num;
    if (
      cond.rank !== 3 ||
      (cond.shape[1] as number) < K ||
      cond.shape[2] !== this.config.caption_dim
    ) {
      throw new Error(
        `Transformer: text-conditional models take caption features [B, ≥${K}, ${this.config.caption_dim}], got [${cond.shape.join(', ')}]`,
      );
    }
    return T.narrow(e.forward(cond), 1, 0, K);
  }

  /** A KV cache for `batch` rows and `capacity` positions (default the whole sequence K + L). */
  newCache(batch: number, capacity = this.config.cls_token_num + this.config.block_size): KVCache {
    return new KVCache(this.config.n_layer, batch, this.dims.kvHeads, capacity, this.dims.headDim);
  }

  /** Official call pattern: (idx, cond) teacher forcing from position 0; (null, cond) prefill;
   *  (idx, null) decode with a cache. idx int32 [B, S_img]. → logits [B, S, V] (S = 1 with
   *  lastOnly), S = condition tokens + S_img. */
  forward(idx: Tensor | null, cond: Tensor | null, opts: GptForwardOpts = {}): Tensor {
    const parts: Tensor[] = [];
    if (cond) parts.push(this.embedCondition(cond));
    if (idx) {
      if (idx.dtype !== 'int32' || idx.rank !== 2) {
        throw new Error(
          `Transformer: idx must be int32 token ids [B, S], got ${idx.dtype} [${idx.shape.join(', ')}]`,
        );
      }
      const V = this.config.vocab_size;
      for (const t of idx.data)
        if (t < 0 || t >= V) throw new Error(`Transformer: token id ${t} is outside [0, ${V})`);
      parts.push(this.tok_embeddings.forward(idx));
    }
    if (parts.length === 0) throw new Error('Transformer: give token ids, a condition, or both');
    let h = parts.length === 1 ? (parts[0] as Tensor) : T.concat(parts, 1); // [B, S, D]
    const [B, S] = h.shape as [number, number, number];
    const cache = opts.cache;
    const pos = cache ? cache.len : 0;
    if (cond && pos !== 0)
      throw new Error(
        `Transformer: the condition goes at position 0, but the cache already holds ${pos} positions (cache.reset(batch))`,
      );
    if (!cache && !cond)
      throw new Error(
        'Transformer: decoding token ids without a condition needs a KV cache (opts.cache)',
      );
    if (cache) {
      if (B !== cache.batch)
        throw new Error(
          `Transformer: batch ${B} does not match the cache's ${cache.batch} rows (cache.reset(batch))`,
        );
      cache.checkWrite(pos, S);
    }
    const rows = this.freqsCis.shape[0] as number;
    if (pos + S > rows) {
      throw new Error(
        `Transformer: positions ${pos}..${pos + S - 1} exceed the ${rows} positions of the model (condition + block_size)`,
      );
    }
    const table = T.narrow(this.freqsCis, 0, pos, S); // [S, d/2, 2]
    this.layers.forEach((layer, i) => {
      h = layer.forward(h, table, cache ? { layer: cache.layers[i] as LayerKVCache, pos } : null);
    });
    if (cache) cache.len = pos + S;
    if (opts.lastOnly && S > 1) h = T.narrow(h, 1, S - 1, 1); // [B, 1, D]
    return this.output.forward(this.norm.forward(h)); // [B, S, V]
  }
}

/** Random weights in the fixtures' scheme: embeddings N(0, 1), linear weights N(0, 1/fan_in),
 *  norm weights 1 (+ N(0, normStd²)). For tests and benchmarks. */
export function randomizeGpt(model: Transformer, rng: Rng, normStd = 0): Transformer {
  return randomizeTransformer_(model, rng, normStd);
}
