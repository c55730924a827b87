// The VAR Distilled-Decoding student (VAR/models/dd.py `DD_Model`, a VAR subclass), with the
// official parameter names so DD checkpoints load by name. It is the teacher transformer run once
// over the whole sequence: slot 0 is the class/start slot, slots 1..L carry raw token vectors
// (codebook rows for data, Gaussian noise for the rest) through `word_embed`; the extra first
// level (the teacher's 1×1 token gets its own level/position rows), a noise/data flag embedding
// added at the input, re-projected inside every block between attention and FFN and before the
// heads, a mask in which a token sees strictly earlier levels and itself only, and two heads:
// the teacher's logits head and a continuous head (`final_layer_conti`). See var-dd.md §4.1–§4.6.
//
// Letters: B batch, L teacher tokens (L + 1 student slots, n = L + 1), l rows of a call, C width,
// V codebook size, Cv codebook dim.

import { Embedding, Linear } from '../../../nn/layers.js';
import { Module, buffer, param } from '../../../nn/module.js';
import * as T from '../../../tensor/index.js';
import {
  AdaLNBeforeHead,
  AdaLNSelfAttn,
  SiLU,
  modulate,
  type SelfAttention,
} from '../../../models/var/var.js';
import {
  checkTimestep,
  ddSchedule,
  studentMask,
  validateVarDDConfig,
  type DDSchedule,
  type VarDDConfig,
} from './config.js';

/** Per-sample timesteps: one integer for the batch or one per sample [B]. */
export type Timesteps = number | Int32Array | readonly number[];

/** The PixArt-style FinalLayer: Linear(LN(h)·(1 + scale) + shift) with (shift, scale) =
 *  scale_shift_table + the raw class embedding (no SiLU, no Linear on it); LN without affine,
 *  eps fixed at 1e-6 (`norm_final`, no parameters). */
export class FinalLayer extends Module {
  linear: Linear; // [Cv, C]
  scale_shift_table: T.Tensor; // [2, C]: row 0 shift, row 1 scale
  readonly C: number;

  constructor(C: number, Cv: number) {
    super();
    this.C = C;
    this.linear = new Linear(C, Cv);
    this.scale_shift_table = param(T.zeros([2, C]));
  }

  /** h [B, l, C], cond [B, C] → [B, l, Cv] */
  forward(h: T.Tensor, cond: T.Tensor): T.Tensor {
    const B = cond.shape[0] as number;
    const ss = T.add(
      T.reshape(this.scale_shift_table, [1, 2, this.C]),
      T.reshape(cond, [B, 1, this.C]),
    );
    const shift = T.narrow(ss, 1, 0, 1); // [B, 1, C]
    const scale = T.narrow(ss, 1, 1, 1);
    return this.linear.forward(modulate(h, scale, shift, 1e-6));
  }
}

/** The student's hidden state before the heads, with what the heads need. */
export interface StudentHidden {
  /** h + e_depth [B, L + 1, C] (the same h′ feeds both heads). */
  readonly h: T.Tensor;
  /** Raw class embeddings [B, C]. */
  readonly cond: T.Tensor;
}

export class VarDD extends Module {
  word_embed: Linear; // [C, Cv]
  class_emb: Embedding; // [num_classes + 1, C]
  pos_start: T.Tensor; // [1, 1, C]
  pos_1LC: T.Tensor; // [1, L + 1, C]
  lvl_embed: Embedding; // [SN + 1, C]
  shared_ada_lin: [SiLU, Linear] | null; // [6C, C] when shared_aln
  blocks: AdaLNSelfAttn[];
  lvl_1L: T.Tensor; // [1, L + 1] int32 buffer
  attn_bias_for_masking: T.Tensor; // [1, 1, L + 1, L + 1] buffer (0 / −∞)
  head_nm: AdaLNBeforeHead;
  head: Linear; // [V, C]
  n_d_embed: Embedding; // [2, C]: row 0 noise, row 1 data
  layerwise_n_d_embed: Linear[] | null; // depth + 1 of [C, C]
  final_layer_conti: FinalLayer;
  readonly config: VarDDConfig;
  readonly sched: DDSchedule;
  readonly C: number;
  /** The mask as an sdpa bias [1, 1, n, n], built from the rule (never from a checkpoint). */
  private readonly maskBias: T.Tensor;

  constructor(cfg: VarDDConfig) {
    super();
    this.config = validateVarDDConfig(cfg);
    this.sched = ddSchedule(cfg.patch_nums);
    const C = cfg.embed_dim;
    const n = this.sched.slots;
    const levels = this.sched.studentPatchNums.length;
    this.C = C;
    this.word_embed = new Linear(cfg.Cvae, C);
    this.class_emb = new Embedding(cfg.num_classes + 1, C);
    this.pos_start = param(T.zeros([1, 1, C]));
    this.pos_1LC = param(T.zeros([1, n, C]));
    this.lvl_embed = new Embedding(levels, C);
    this.shared_ada_lin = cfg.shared_aln ? [new SiLU(), new Linear(C, 6 * C)] : null;
    this.blocks = Array.from({ length: cfg.depth }, () => new AdaLNSelfAttn(cfg));
    this.lvl_1L = buffer(new T.Tensor(this.sched.level.slice(), [1, n]));
    this.maskBias = new T.Tensor(studentMask(this.sched), [1, 1, n, n]);
    this.attn_bias_for_masking = buffer(new T.Tensor(this.maskBias.data.slice(), [1, 1, n, n]));
    this.head_nm = new AdaLNBeforeHead(C);
    this.head = new Linear(C, cfg.vocab_size);
    this.n_d_embed = new Embedding(2, C);
    this.layerwise_n_d_embed = cfg.layerwise_n_d_embed
      ? Array.from({ length: cfg.depth + 1 }, () => new Linear(C, C))
      : null;
    this.final_layer_conti = new FinalLayer(C, cfg.Cvae);
    this.eval();
  }

  /** Teacher tokens L (the student has L + 1 slots). */
  get L(): number {
    return this.sched.teacher.L;
  }

  /** Rewrites the buffers lvl_1L and attn_bias_for_masking from the rule (after loading a
   *  checkpoint, whose buffers are not trusted); returns the names of those that differed. */
  restoreBuffers(): string[] {
    const differed: string[] = [];
    const lv = this.sched.level;
    const l = this.lvl_1L.data;
    if (lv.some((v, i) => l[i] !== v)) differed.push('lvl_1L');
    l.set(lv);
    const m = this.attn_bias_for_masking.data;
    const want = this.maskBias.data;
    if (want.some((v, i) => m[i] !== v)) differed.push('attn_bias_for_masking');
    m.set(want);
    for (const [i, b] of this.blocks.entries()) {
      const z = b.attn.zero_k_bias.data;
      if (z.some((v) => v !== 0)) differed.push(`blocks.${i}.attn.zero_k_bias`);
      z.fill(0);
    }
    return differed;
  }

  /** Per-sample timesteps [B], each checked to be in [0, SN). */
  timesteps(t: Timesteps, B: number): Int32Array {
    const out = typeof t === 'number' ? new Int32Array(B).fill(t) : Int32Array.from(t);
    if (out.length !== B)
      throw new Error(`VarDD: ${out.length} timesteps given for a batch of ${B}`);
    for (const v of out) checkTimestep(this.sched, v);
    return out;
  }

  /** Raw class embeddings cond [B, C]. */
  classCond(labels: Int32Array): T.Tensor {
    const nc = this.config.num_classes;
    for (const y of labels) {
      if (!Number.isInteger(y) || y < 0 || y > nc) {
        throw new Error(`VarDD: label ${y} is outside [0, ${nc}] (${nc} = the null class)`);
      }
    }
    return this.class_emb.forward(new T.Tensor(labels, [labels.length]));
  }

  /** The noise/data flag of every slot [B, L + 1] (int32): 1 (data) for slots before
   *  (L + 1) − accum[t + 1] — the class slot and the cum_t data tokens — else 0 (noise). */
  flags(t: Int32Array): T.Tensor {
    const n = this.sched.slots;
    const f = new Int32Array(t.length * n);
    t.forEach((tb, b) => f.fill(1, b * n, b * n + n - (this.sched.accum[tb + 1] as number)));
    return new T.Tensor(f, [t.length, n]);
  }

  /** The flag embedding that layer i adds ([B, L + 1, C]): layerwise_n_d_embed[i](n_d_emb), or
   *  n_d_emb itself without layer-wise embeddings. The Linear only ever sees the two rows of
   *  n_d_embed, so it runs on those [2, C] and the result is gathered per slot. */
  private flagEmbedding(i: number, flags: T.Tensor): T.Tensor {
    const rows = this.layerwise_n_d_embed
      ? (this.layerwise_n_d_embed[i] as Linear).forward(this.n_d_embed.weight)
      : this.n_d_embed.weight;
    return T.embedding(rows, flags);
  }

  /** Student attention of block b with the student mask: x [B, n, C] → [B, n, C]. The level
   *  mask (key level ≤ query level) lets the kernel skip whole tiles of later levels; the bias
   *  then hides the siblings of the same level (all but the diagonal). */
  private attention(attn: SelfAttention, x: T.Tensor): T.Tensor {
    return attn.forward(x, { kind: 'levels', level: this.sched.level, bias: this.maskBias });
  }

  /** Runs the transformer: labels [B], x [B, L, Cv] (token vectors), t per sample →
   *  h′ = h + e_depth [B, L + 1, C] and the class embeddings. */
  hidden(labels: Int32Array, x: T.Tensor, t: Timesteps): StudentHidden {
    const B = labels.length;
    const { L } = this;
    const Cv = this.config.Cvae;
    if (x.rank !== 3 || x.shape[0] !== B || x.shape[1] !== L || x.shape[2] !== Cv) {
      throw new Error(
        `VarDD: expected x [${B}, ${L}, ${Cv}] (batch, tokens, Cvae), got [${x.shape.join(', ')}]`,
      );
    }
    const ts = this.timesteps(t, B);
    const C = this.C;
    const cond = this.classCond(labels); // [B, C]
    const sos = T.add(T.reshape(cond, [B, 1, C]), this.pos_start); // [B, 1, C]
    let h = T.concat([sos, this.word_embed.forward(x)], 1); // [B, n, C]
    h = T.add(h, T.add(this.lvl_embed.forward(this.lvl_1L), this.pos_1LC));
    const flags = this.flags(ts);
    h = T.add(h, T.embedding(this.n_d_embed.weight, flags));
    const s = this.shared_ada_lin;
    const bc = s ? s[1].forward(s[0].forward(cond)) : cond;
    const eps = this.config.norm_eps;
    this.blocks.forEach((b, i) => {
      const [g1, g2, s1, s2, b1, b2] = b.modulation(bc) as [
        T.Tensor,
        T.Tensor,
        T.Tensor,
        T.Tensor,
        T.Tensor,
        T.Tensor,
      ];
      h = T.add(h, T.mul(this.attention(b.attn, modulate(h, s1, b1, eps)), g1));
      h = T.add(h, this.flagEmbedding(i, flags));
      h = T.add(h, T.mul(b.ffn.forward(modulate(h, s2, b2, eps)), g2));
    });
    h = T.add(h, this.flagEmbedding(this.config.depth, flags));
    return { h, cond };
  }

  /** Logits of tokens [begin, begin + len) (slots begin + 1 …): [B, len, V]. */
  logitsOf(hid: StudentHidden, begin: number, len: number): T.Tensor {
    const [silu, lin] = this.head_nm.ada_lin;
    const B = hid.cond.shape[0] as number;
    const m = T.reshape(lin.forward(silu.forward(hid.cond)), [B, 2, this.C]); // scale, shift
    const scale = T.narrow(m, 1, 0, 1);
    const shift = T.narrow(m, 1, 1, 1);
    const h = T.narrow(hid.h, 1, begin + 1, len);
    return this.head.forward(modulate(h, scale, shift, this.config.norm_eps));
  }

  /** Continuous predictions of tokens [begin, begin + len): [B, len, Cv]. */
  contiOf(hid: StudentHidden, begin: number, len: number): T.Tensor {
    return this.final_layer_conti.forward(T.narrow(hid.h, 1, begin + 1, len), hid.cond);
  }

  /** DD_Model.forward: labels [B], x [B, L, Cv], t → (conti [B, L, Cv], logits [B, L, V]),
   *  the class slot dropped. Records gradients unless called under T.noGrad. */
  forward(labels: Int32Array, x: T.Tensor, t: Timesteps): { conti: T.Tensor; logits: T.Tensor } {
    const hid = this.hidden(labels, x, t);
    return { conti: this.contiOf(hid, 0, this.L), logits: this.logitsOf(hid, 0, this.L) };
  }
}
