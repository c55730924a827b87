// The VAR teacher (VAR/models/var.py `VAR`, models/basic_var.py `AdaLNSelfAttn`): next-scale
// prediction with a block-causal transformer conditioned by AdaLN on the class embedding, with
// cosine attention (L2-normalised q, k and a capped learned per-head scale). Parameter names are
// the official ones, so official state dicts load by name. See var-dd.md §3.
//
// Letters: B batch (2B rows with CFG), L tokens (all scales), l tokens of the current call,
// C width, H heads, Dh = C/H, V codebook size, Cv codebook dim, SN scales.

import { Linear, Embedding } from '../../nn/layers.js';
import { Module, buffer, param } from '../../nn/module.js';
import * as T from '../../tensor/index.js';
import { scaleSchedule, validateVarConfig, type ScaleSchedule, type VarConfig } from './config.js';

/** nn.SiLU: index 0 of the official `ada_lin` Sequentials (no parameters). */
export class SiLU extends Module {
  forward(x: T.Tensor): T.Tensor {
    return T.silu(x);
  }
}

/** How a call's tokens attend: over themselves with the block-causal mask (teacher forcing),
 *  over themselves with no mask, or appended to the KV cache and over the whole cache. */
export type AttnMode =
  /** Block-causal by scale level; `bias` (broadcast to [B, H, l, l]) is added to the scores
   *  (the DD student hides same-level siblings with it). */
  | { readonly kind: 'levels'; readonly level: Int32Array; readonly bias?: T.Tensor }
  | { readonly kind: 'full' }
  | { readonly kind: 'cache' };

/** A KV cache written in place: k̂ and v of every head, [rows, H, cap, Dh], first `len` used. */
export class KvCache {
  readonly k: T.Tensor;
  readonly v: T.Tensor;
  len = 0;

  constructor(
    readonly rows: number,
    readonly heads: number,
    readonly cap: number,
    readonly dh: number,
  ) {
    this.k = T.zeros([rows, heads, cap, dh]);
    this.v = T.zeros([rows, heads, cap, dh]);
  }

  /** Appends k, v [rows, H, l, Dh] at position len (no reallocation, no concatenation). */
  append(k: T.Tensor, v: T.Tensor): void {
    const [rows, H, l, Dh] = k.shape as [number, number, number, number];
    if (rows !== this.rows || H !== this.heads || Dh !== this.dh || this.len + l > this.cap) {
      throw new Error(
        `KvCache: cannot append [${k.shape.join(', ')}] to a cache of [${this.rows}, ${this.heads}, ${this.cap}, ${this.dh}] holding ${this.len}; start the cache with the right batch and capacity`,
      );
    }
    const kd = this.k.data;
    const vd = this.v.data;
    const n = l * Dh;
    for (let bh = 0; bh < rows * H; bh++) {
      const dst = (bh * this.cap + this.len) * Dh;
      kd.set(k.data.subarray(bh * n, (bh + 1) * n), dst);
      vd.set(v.data.subarray(bh * n, (bh + 1) * n), dst);
    }
    this.len += l;
  }
}

/** Multi-head self-attention with the fused qkv weight and (q_bias, 0, v_bias) bias. */
export class SelfAttention extends Module {
  mat_qkv: Linear; // [3C, C], no bias
  q_bias: T.Tensor; // [C]
  v_bias: T.Tensor; // [C]
  zero_k_bias: T.Tensor; // [C] buffer of zeros
  scale_mul_1H11: T.Tensor | null; // [1, H, 1, 1] log of the per-head temperature
  proj: Linear;
  readonly C: number;
  readonly H: number;
  readonly Dh: number;
  readonly scale: number;
  cache: KvCache | null = null;

  constructor(C: number, H: number, attnL2Norm: boolean) {
    super();
    this.C = C;
    this.H = H;
    this.Dh = C / H;
    this.mat_qkv = new Linear(C, 3 * C, { bias: false });
    this.q_bias = param(T.zeros([C]));
    this.v_bias = param(T.zeros([C]));
    this.zero_k_bias = buffer(T.zeros([C]));
    this.scale_mul_1H11 = attnL2Norm ? param(T.full([1, H, 1, 1], Math.log(4))) : null;
    this.scale = attnL2Norm ? 1 : 0.25 / Math.sqrt(this.Dh);
    this.proj = new Linear(C, C);
  }

  /** x [B, l, C] → [B, l, C] */
  forward(x: T.Tensor, mode: AttnMode): T.Tensor {
    const [B, l, C] = x.shape as [number, number, number];
    const { H, Dh } = this;
    const bias = T.concat([this.q_bias, this.zero_k_bias, this.v_bias]);
    const qkv = T.add(
      T.matmul(T.reshape(x, [B * l, C]), this.mat_qkv.weight, { transB: true }),
      bias,
    );
    const heads = T.permute(T.reshape(qkv, [B, l, 3, H, Dh]), [2, 0, 3, 1, 4]); // [3, B, H, l, Dh]
    let [q, k, v] = T.split(heads, 1, 0).map((t) => T.reshape(t, [B, H, l, Dh])) as [
      T.Tensor,
      T.Tensor,
      T.Tensor,
    ];
    if (this.scale_mul_1H11) {
      const mulH = T.exp(T.minimum(this.scale_mul_1H11, Math.fround(Math.log(100))));
      q = T.mul(l2Normalize(q), mulH);
      k = l2Normalize(k);
    }
    let o: T.Tensor; // [B, H, l, Dh]
    if (mode.kind === 'cache') {
      const c = this.cache;
      if (!c)
        throw new Error('SelfAttention: cache mode without a KV cache; call startCache first');
      c.append(k, v);
      o = T.sdpa(q, c.k, c.v, { scale: this.scale, kvLength: c.len });
    } else if (mode.kind === 'levels') {
      const lv = mode.level;
      o = T.sdpa(q, k, v, {
        scale: this.scale,
        mask: { kind: 'levels', qLevel: lv, kLevel: lv },
        ...(mode.bias ? { bias: mode.bias } : {}),
      });
    } else {
      o = T.sdpa(q, k, v, { scale: this.scale });
    }
    const merged = T.reshape(T.transpose(o, 1, 2), [B, l, C]);
    return this.proj.forward(merged);
  }
}

/** x / max(‖x‖, 1e-12) over the last axis (F.normalize). */
export function l2Normalize(x: T.Tensor): T.Tensor {
  const n = T.sqrt(T.sum(T.square(x), -1, { keepDim: true }));
  return T.div(x, T.maximum(n, 1e-12));
}

/** fc2(GELU_tanh(fc1(x))). */
export class FFN extends Module {
  fc1: Linear;
  fc2: Linear;
  constructor(C: number, hidden: number) {
    super();
    this.fc1 = new Linear(C, hidden);
    this.fc2 = new Linear(hidden, C);
  }

  /** x [..., C] → [..., C] */
  forward(x: T.Tensor): T.Tensor {
    return this.fc2.forward(T.gelu(this.fc1.forward(x), 'tanh'));
  }
}

/** LN(x)·(1 + scale) + shift with LN non-affine; scale, shift [B, 1, C]. */
export function modulate(x: T.Tensor, scale: T.Tensor, shift: T.Tensor, eps: number): T.Tensor {
  return T.add(T.mul(T.layerNorm(x, null, null, eps), T.add(scale, 1)), shift);
}

/** Chunk i of n along the last axis of m [B, n·C] as [B, 1, C]. */
function chunk(m: T.Tensor, i: number, n: number): T.Tensor {
  const [B, nC] = m.shape as [number, number];
  const C = nC / n;
  return T.reshape(T.narrow(T.reshape(m, [B, n, C]), 1, i, 1), [B, 1, C]);
}

/** One transformer block with AdaLN: x += γ₁·Attn(LN(x)(1+s₁)+β₁); x += γ₂·FFN(LN(x)(1+s₂)+β₂). */
export class AdaLNSelfAttn extends Module {
  attn: SelfAttention;
  ffn: FFN;
  ada_lin: [SiLU, Linear] | null; // [6C, C]
  ada_gss: T.Tensor | null; // [1, 1, 6, C] when shared_aln
  readonly eps: number;

  constructor(cfg: VarConfig) {
    super();
    const C = cfg.embed_dim;
    this.eps = cfg.norm_eps;
    this.attn = new SelfAttention(C, cfg.num_heads, cfg.attn_l2_norm);
    this.ffn = new FFN(C, Math.round(C * cfg.mlp_ratio));
    this.ada_lin = cfg.shared_aln ? null : [new SiLU(), new Linear(C, 6 * C)];
    this.ada_gss = cfg.shared_aln ? param(T.zeros([1, 1, 6, C])) : null;
  }

  /** The six modulation vectors (γ₁, γ₂, s₁, s₂, β₁, β₂), each [B, 1, C], from the raw class
   *  embedding cond [B, C] (or the shared_ada_lin output [B, 6C] with shared AdaLN). */
  modulation(cond: T.Tensor): T.Tensor[] {
    let m: T.Tensor; // [B, 6C]
    if (this.ada_lin) m = this.ada_lin[1].forward(this.ada_lin[0].forward(cond));
    else m = T.add(cond, T.reshape(this.ada_gss as T.Tensor, [1, -1]));
    return [0, 1, 2, 3, 4, 5].map((i) => chunk(m, i, 6));
  }

  /** x [B, l, C] → [B, l, C]; mods from modulation(). */
  forward(x: T.Tensor, mods: readonly T.Tensor[], mode: AttnMode): T.Tensor {
    const [g1, g2, s1, s2, b1, b2] = mods as [
      T.Tensor,
      T.Tensor,
      T.Tensor,
      T.Tensor,
      T.Tensor,
      T.Tensor,
    ];
    const a = this.attn.forward(modulate(x, s1, b1, this.eps), mode);
    const x1 = T.add(x, T.mul(a, g1));
    const f = this.ffn.forward(modulate(x1, s2, b2, this.eps));
    return T.add(x1, T.mul(f, g2));
  }
}

/** head(LN(x)·(1 + scale) + shift) conditioning: (scale, shift) = ada_lin(cond), scale first. */
export class AdaLNBeforeHead extends Module {
  ada_lin: [SiLU, Linear]; // [2C, C]
  constructor(C: number) {
    super();
    this.ada_lin = [new SiLU(), new Linear(C, 2 * C)];
  }
}

/** Class conditioning of one batch: the raw class embeddings [B, C], the six modulation vectors
 *  of every block (each [B, 1, C]) and the head's (scale, shift). */
export interface VarConditioning {
  readonly cond: T.Tensor;
  readonly blocks: readonly (readonly T.Tensor[])[];
  readonly head: readonly [T.Tensor, T.Tensor];
}

/** The VAR teacher. Inference helpers run under T.noGrad in generate.ts. */
export class VAR extends Module {
  word_embed: Linear; // [C, Cv]
  class_emb: Embedding; // [num_classes + 1, C]
  pos_start: T.Tensor; // [1, first_l, C]
  pos_1LC: T.Tensor; // [1, L, C]
  lvl_embed: Embedding; // [SN, C]
  shared_ada_lin: [SiLU, Linear] | null; // [6C, C] when shared_aln
  blocks: AdaLNSelfAttn[];
  lvl_1L: T.Tensor; // [1, L] int32 buffer
  attn_bias_for_masking: T.Tensor; // [1, 1, L, L] buffer (0 / −∞); only kept for the state dict
  head_nm: AdaLNBeforeHead;
  head: Linear; // [V, C]
  readonly config: VarConfig;
  readonly sched: ScaleSchedule;
  readonly C: number;
  readonly firstL: number;

  constructor(cfg: VarConfig) {
    super();
    this.config = validateVarConfig(cfg);
    this.sched = scaleSchedule(cfg.patch_nums);
    const C = cfg.embed_dim;
    const { L, level } = this.sched;
    this.C = C;
    this.firstL = (cfg.patch_nums[0] as number) ** 2;
    this.word_embed = new Linear(cfg.Cvae, C);
    this.class_emb = new Embedding(cfg.num_classes + 1, C);
    this.pos_start = param(T.zeros([1, this.firstL, C]));
    this.pos_1LC = param(T.zeros([1, L, C]));
    this.lvl_embed = new Embedding(this.sched.SN, C);
    this.shared_ada_lin = cfg.shared_aln ? [new SiLU(), new Linear(C, 6 * C)] : null;
    this.blocks = Array.from({ length: cfg.depth }, () => new AdaLNSelfAttn(cfg));
    this.lvl_1L = buffer(new T.Tensor(level.slice(), [1, L]));
    const mask = new Float32Array(L * L);
    for (let i = 0; i < L; i++) {
      for (let j = 0; j < L; j++)
        if ((level[j] as number) > (level[i] as number)) mask[i * L + j] = -Infinity;
    }
    this.attn_bias_for_masking = buffer(new T.Tensor(mask, [1, 1, L, L]));
    this.head_nm = new AdaLNBeforeHead(C);
    this.head = new Linear(C, cfg.vocab_size);
    this.eval();
  }

  get numClasses(): number {
    return this.config.num_classes;
  }

  /** Raw class embeddings cond [B, C] of labels (num_classes = the null class). */
  classCond(labels: Int32Array): T.Tensor {
    for (const y of labels) {
      if (y < 0 || y > this.numClasses) {
        throw new Error(
          `VAR: label ${y} is outside [0, ${this.numClasses}] (${this.numClasses} = unconditional)`,
        );
      }
    }
    return this.class_emb.forward(new T.Tensor(labels, [labels.length]));
  }

  /** lvl_embed[lvl_1L] + pos_1LC as [1, L, C]. */
  lvlPos(): T.Tensor {
    return T.add(this.lvl_embed.forward(this.lvl_1L), this.pos_1LC);
  }

  /** Start tokens [B, first_l, C]: cond + pos_start + lvlPos[:first_l]; cond [B, C]. */
  startTokens(cond: T.Tensor, lvlPos: T.Tensor): T.Tensor {
    const B = cond.shape[0] as number;
    const first = T.add(this.pos_start, T.narrow(lvlPos, 1, 0, this.firstL));
    return T.add(T.reshape(cond, [B, 1, this.C]), first);
  }

  /** Token inputs of slots [begin, begin + l): word_embed(x) + lvlPos; x [B, l, Cv]. */
  tokenInputs(x: T.Tensor, lvlPos: T.Tensor, begin: number): T.Tensor {
    const l = x.shape[1] as number;
    return T.add(this.word_embed.forward(x), T.narrow(lvlPos, 1, begin, l));
  }

  /** What the blocks are conditioned on: cond itself, or shared_ada_lin(cond) [B, 6C]. */
  blockCond(cond: T.Tensor): T.Tensor {
    const s = this.shared_ada_lin;
    return s ? s[1].forward(s[0].forward(cond)) : cond;
  }

  /** The AdaLN modulations of every block and of the head for cond [B, C]. They depend only on
   *  the class, so a sampler computes them once and reuses them at every scale. */
  conditioning(cond: T.Tensor): VarConditioning {
    const bc = this.blockCond(cond);
    const [silu, lin] = this.head_nm.ada_lin;
    const m = lin.forward(silu.forward(cond)); // [B, 2C]
    return {
      cond,
      blocks: this.blocks.map((b) => b.modulation(bc)),
      head: [chunk(m, 0, 2), chunk(m, 1, 2)],
    };
  }

  /** Runs every block: x [B, l, C] → [B, l, C]. */
  runBlocks(x: T.Tensor, c: VarConditioning, mode: AttnMode): T.Tensor {
    let h = x;
    this.blocks.forEach((b, i) => {
      h = b.forward(h, c.blocks[i] as T.Tensor[], mode);
    });
    return h;
  }

  /** head(head_nm(h, cond)): h [B, l, C] → logits [B, l, V]. */
  getLogits(h: T.Tensor, c: VarConditioning): T.Tensor {
    const [scale, shift] = c.head;
    return this.head.forward(modulate(h, scale, shift, this.config.norm_eps));
  }

  /** Teacher forcing (VAR.forward with cond_drop_rate applied by the caller): labels [B],
   *  x [B, L − first_l, Cv] (idxBl_to_var_input) → logits [B, L, V], block-causal attention.
   *  Records gradients unless called under T.noGrad. */
  forward(labels: Int32Array, x: T.Tensor): T.Tensor {
    const B = labels.length;
    const { L, level } = this.sched;
    if (
      x.rank !== 3 ||
      x.shape[0] !== B ||
      x.shape[1] !== L - this.firstL ||
      x.shape[2] !== this.config.Cvae
    ) {
      throw new Error(
        `VAR.forward: expected x [${B}, ${L - this.firstL}, ${this.config.Cvae}], got [${x.shape.join(', ')}]`,
      );
    }
    const cond = this.classCond(labels);
    const lp = this.lvlPos();
    const h0 = T.concat([this.startTokens(cond, lp), this.tokenInputs(x, lp, this.firstL)], 1);
    const c = this.conditioning(cond);
    return this.getLogits(this.runBlocks(h0, c, { kind: 'levels', level }), c);
  }

  /** Gives every block an empty KV cache for `rows` sequences of up to `cap` tokens. */
  startCache(rows: number, cap: number = this.sched.L): void {
    const { embed_dim: C, num_heads: H } = this.config;
    for (const b of this.blocks) b.attn.cache = new KvCache(rows, H, cap, C / H);
  }

  stopCache(): void {
    for (const b of this.blocks) b.attn.cache = null;
  }
}
