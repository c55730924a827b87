// Initialising a VAR DD student for training, as the official code does (var-dd.md §4.11):
// `initVarDDWeights` is build_vae_dd's construction-time init (VAR.__init__ draws plus
// VAR.init_weights), `initFromTeacher` is DD_Model.init_with_teacher. Draws come from an
// explicit Rng, one tensor after another in the order listed in each function (torch's own
// stream cannot be reproduced; the distributions and what is copied are the official ones).
//
// Published quirk kept on purpose (it changes outputs): init_with_teacher means to re-draw the
// new level row lvl_embed[1] but re-draws class_emb[1] (class 1 loses the teacher's embedding)
// and leaves lvl_embed[1] at its construction-time value. pos_1LC[:, 1] is re-drawn as meant.
//
// Letters: C width, SN teacher scales, L teacher tokens.

import { truncNormal_ } from '../../../nn/init.js';
import * as T from '../../../tensor/index.js';
import type { VAR } from '../../../models/var/var.js';
import type { VarDD } from './student.js';

/** trunc_normal_(t, std) with torch's default absolute bounds ±2 (not ±2·std). */
function truncNormal(t: T.Tensor, std: number, rng: T.Rng): void {
  truncNormal_(t, std, rng, -2, 2);
}

/** Overwrites row r of a [rows, C] (or [1, rows, C]) tensor with trunc_normal(std) draws. */
function redrawRow(t: T.Tensor, r: number, C: number, std: number, rng: T.Rng): void {
  const row = T.zeros([C]);
  truncNormal(row, std, rng);
  t.data.set(row.data, r * C);
}

export interface InitWeightsOptions {
  /** init_adaln (0.5), init_adaln_gamma (1e-5), init_head (0.02), init_std (−1: √(1/(3C))). */
  readonly initAdaln?: number;
  readonly initAdalnGamma?: number;
  readonly initHead?: number;
  readonly initStd?: number;
}

/** build_vae_dd's initialisation of a fresh student (before init_with_teacher). In order:
 *  pos_start, pos_1LC ~ trunc_normal(√(1/(3C))); final_layer_conti.scale_shift_table ~
 *  N(0, 1)/√C; then every Linear and Embedding in state-dict order ~ trunc_normal(init_std) with
 *  zero biases; head weight ×init_head; head_nm AdaLN weight ×init_adaln; per block proj and fc2
 *  ÷√(2·depth), AdaLN rows γ (first 2C) ×init_adaln_gamma, the rest ×init_adaln; q/v biases 0,
 *  scale_mul_1H11 = ln 4. Returns the model. */
export function initVarDDWeights(model: VarDD, rng: T.Rng, o: InitWeightsOptions = {}): VarDD {
  const C = model.C;
  const depth = model.config.depth;
  const ctorStd = Math.sqrt(1 / C / 3);
  const std = (o.initStd ?? -1) < 0 ? ctorStd : (o.initStd as number);
  const adaln = o.initAdaln ?? 0.5;
  const gamma = o.initAdalnGamma ?? 1e-5;
  const headMul = o.initHead ?? 0.02;
  truncNormal(model.pos_start, ctorStd, rng);
  truncNormal(model.pos_1LC, ctorStd, rng);
  const sst = model.final_layer_conti.scale_shift_table;
  const z = rng.normal(sst.size);
  for (let i = 0; i < sst.size; i++) sst.data[i] = (z[i] as number) / Math.sqrt(C);
  for (const [name, t] of model.namedParameters()) {
    const isLinearW = name.endsWith('.weight') && t.rank === 2;
    if (isLinearW) truncNormal(t, std, rng);
    else if (name.endsWith('.bias') || name.endsWith('q_bias') || name.endsWith('v_bias'))
      t.data.fill(0);
  }
  const scale = (t: T.Tensor, k: number, from = 0, to = t.size) => {
    for (let i = from; i < to; i++) t.data[i] = (t.data[i] as number) * k;
  };
  if (headMul >= 0) scale(model.head.weight, headMul);
  scale(model.head_nm.ada_lin[1].weight, adaln);
  for (const b of model.blocks) {
    scale(b.attn.proj.weight, 1 / Math.sqrt(2 * depth));
    scale(b.ffn.fc2.weight, 1 / Math.sqrt(2 * depth));
    if (b.attn.scale_mul_1H11) b.attn.scale_mul_1H11.data.fill(Math.log(4));
    if (b.ada_lin) {
      const w = b.ada_lin[1].weight;
      scale(w, gamma, 0, 2 * C * C);
      scale(w, adaln, 2 * C * C);
    } else if (b.ada_gss) {
      const g = b.ada_gss; // [1, 1, 6, C]
      scale(g, gamma, 0, 2 * C);
      scale(g, adaln, 2 * C);
    }
  }
  return model;
}

/** DD_Model.init_with_teacher(teacher, init_std): copies word_embed, class_emb, pos_start, all
 *  block parameters, shared_ada_lin, head_nm and head; lvl_embed rows 0 ← 0 and 2.. ← 1..;
 *  pos_1LC rows 0 ← 0 and 2.. ← 1..; then draws (in this order) class_emb[1] (the published
 *  bug, see the file header), pos_1LC[:, 1] and n_d_embed ~ trunc_normal(init_std) (init_std < 0:
 *  √(1/(3C))). Everything else keeps its value. Returns the student. */
export function initFromTeacher(
  student: VarDD,
  teacher: VAR,
  rng: T.Rng,
  opts: { readonly initStd?: number } = {},
): VarDD {
  const s = student.config;
  const t = teacher.config;
  const same =
    s.depth === t.depth &&
    s.embed_dim === t.embed_dim &&
    s.num_heads === t.num_heads &&
    s.num_classes === t.num_classes &&
    s.vocab_size === t.vocab_size &&
    s.Cvae === t.Cvae &&
    s.shared_aln === t.shared_aln &&
    s.patch_nums.length === t.patch_nums.length &&
    s.patch_nums.every((p, i) => p === t.patch_nums[i]);
  if (!same) {
    throw new Error(
      "initFromTeacher: the student and teacher configurations differ (depth, width, heads, classes, codebook, shared_aln or patch_nums); build the student with the teacher's VarConfig",
    );
  }
  const C = student.C;
  const std = (opts.initStd ?? 0.02) < 0 ? Math.sqrt(1 / C / 3) : (opts.initStd ?? 0.02);
  const tsd = teacher.stateDict();
  const copy = (name: string, dst: T.Tensor): void => {
    const src = tsd.get(name);
    if (!src || src.size !== dst.size) {
      throw new Error(`initFromTeacher: teacher tensor ${name} is missing or has the wrong size`);
    }
    dst.data.set(src.data);
  };
  for (const [name, p] of student.namedParameters()) {
    if (
      /^(word_embed|class_emb|pos_start|blocks|shared_ada_lin|head_nm|head)\./.test(name) ||
      name === 'pos_start'
    ) {
      copy(name, p);
    }
  }
  const lvlS = student.lvl_embed.weight.data;
  const lvlT = teacher.lvl_embed.weight.data;
  lvlS.set(lvlT.subarray(0, C), 0);
  lvlS.set(lvlT.subarray(C), 2 * C);
  redrawRow(student.class_emb.weight, 1, C, std, rng);
  const posS = student.pos_1LC.data;
  const posT = teacher.pos_1LC.data;
  posS.set(posT.subarray(0, C), 0);
  posS.set(posT.subarray(C), 2 * C);
  redrawRow(student.pos_1LC, 1, C, std, rng);
  truncNormal(student.n_d_embed.weight, std, rng);
  return student;
}
