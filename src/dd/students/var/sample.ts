// Sampling with the VAR DD student (VAR/sample.py, VAR/combine_sample.py), var-dd.md §4.9–§4.10.
//
// Few-step: x ← ε; for each t of t_list: x ← perturb(x, t, ε) (always the ORIGINAL ε on the
// tail), then x ← get_final_sequence(final_predict(y, x, t), split_t). One student forward per
// entry of t_list (t_list = [0]: one step; [0, s]: two steps).
//
// Teacher-involved (T = teacher_start): if T > 0, one DD step at t_list[0] and every token
// snapped to its nearest codebook row; the VAR teacher then continues from the first T scales
// of that sequence to scale t_list[1] (its continuation-from-prefix generate, with the released
// unmasked prefix pass), the tail is refilled with the original ε, and a final DD step at
// t_list[1] follows (skipped when t_list[1] = SN). Teacher settings default to the official
// hard-coded cfg 2.0 / top-k 900 / top-p 0.95.
//
// Tokens → image: f̂ is rebuilt scale by scale with get_next_autoregressive_input over the
// teacher's patch_nums (continuous-head vectors used as they are), then decoded.
//
// Randomness (counter-based Rng, same numbers on every machine and batch size):
//   ε of image i (the i-th image of a run, counting from `first`) = normalStream(seed, 2i,
//   L·Cv) as [L, Cv] row-major: the layout of dd/datagen.ts sampleNoise, so a dataset pair and
//   a sample of the same (seed, i) start from the same noise.
//   Teacher draws of a batch whose first image is i: Rng(seed, 2i + 1) (one uniform per token,
//   scale by scale, rows in batch order — see models/var/generate.ts).
//
// Letters: B batch, L tokens, Cv codebook dim, SN scales, T teacher start scale.

import * as T from '../../../tensor/index.js';
import { generate, type TokenChooser } from '../../../models/var/generate.js';
import type { VectorQuantizer2 } from '../../../models/var/quant.js';
import type { VAR } from '../../../models/var/var.js';
import type { VQVAE } from '../../../models/var/vqvae.js';
import { checkTimestep } from './config.js';
import { ddStep, nearestCodebook, perturb } from './predict.js';
import type { VarDD } from './student.js';

/** The teacher settings combine_sample.py hard-codes (cfg is its script default). */
export const DD_TEACHER_DEFAULTS = { cfg: 2.0, topK: 900, topP: 0.95 } as const;



/** What one DD step saw and produced (progress, parity checks). */
export interface DDStepInfo {
  /** Position in t_list. */
  readonly index: number;
  readonly t: number;
  /** perturb(x, t, ε) [B, L, Cv]: the student's input. */
  readonly input: T.Tensor;
  /** get_final_sequence(final_predict(…)) [B, L, Cv]. */
  readonly output: T.Tensor;
}

export interface VarDDSampleOptions {
  /** Class labels [B] in [0, num_classes]. */
  readonly labels: Int32Array;
  /** Timesteps of the DD steps, in order (e.g. [0] or [0, 5]). */
  readonly tList: readonly number[];
  /** Where the logits head hands over to the continuous head (0 … SN). */
  readonly splitT: number;
  /** The original noise ε [B, L, Cv] (ddNoise for the documented stream). */
  readonly noise: T.Tensor;
  readonly onStep?: (step: DDStepInfo) => void;
}

export interface VarDDSampleResult {
  /** The final token sequence [B, L, Cv] (greedy codebook rows, then continuous vectors). */
  readonly tokens: T.Tensor;
  /** f̂ built from it [B, Cv, HW, HW] (decode with VQVAE.fhatToImg). */
  readonly fhat: T.Tensor;
}

function checkInputs(student: VarDD, quant: VectorQuantizer2, o: VarDDSampleOptions): void {
  const { L } = student;
  const { vocab_size: V, Cvae } = student.config;
  const B = o.labels.length;
  if (B === 0) throw new Error('sampleVarDD: no labels given');
  if (quant.V !== V || quant.Cv !== Cvae || quant.sched.L !== L) {
    throw new Error(
      `sampleVarDD: the VQVAE (V ${quant.V}, Cv ${quant.Cv}, ${quant.sched.L} tokens) does not match the student (V ${V}, Cvae ${Cvae}, ${L} tokens); load the VQVAE the student was distilled with`,
    );
  }
  if (quant.sched.patchNums.some((p, i) => p !== student.sched.teacher.patchNums[i])) {
    throw new Error('sampleVarDD: the VQVAE and the student were built with different patch_nums');
  }
  const ns = o.noise.shape;
  if (o.noise.rank !== 3 || ns[0] !== B || ns[1] !== L || ns[2] !== Cvae) {
    throw new Error(`sampleVarDD: noise must be [${B}, ${L}, ${Cvae}], got [${ns.join(', ')}]`);
  }
}

/** get_next_autoregressive_input over the teacher scales: tokens [B, L, Cv] → f̂. */
export function tokensToFhat(quant: VectorQuantizer2, tokens: T.Tensor): T.Tensor {
  return T.noGrad(() => {
    const { patchNums, cum, HW } = quant.sched;
    const B = tokens.shape[0] as number;
    let fhat = T.zeros([B, quant.Cv, HW, HW]);
    patchNums.forEach((pn, k) => {
      const h = quant.tokensToMap(T.narrow(tokens, 1, cum[k] as number, pn * pn), pn);
      fhat = quant.nextAutoregressiveInput(k, fhat, h).fhat;
    });
    return fhat;
  });
}

/** Few-step sampling over any t_list (sample.py's loop). */
export function sampleVarDD(
  student: VarDD,
  quant: VectorQuantizer2,
  o: VarDDSampleOptions,
): VarDDSampleResult {
  checkInputs(student, quant, o);
  if (o.tList.length === 0) throw new Error('sampleVarDD: t_list is empty; use e.g. [0] or [0, 5]');
  for (const t of o.tList) checkTimestep(student.sched, t, 't_list entry');
  const cb = quant.embedding.weight;
  let x = o.noise;
  o.tList.forEach((t, index) => {
    const input = perturb(student, x, t, o.noise);
    x = ddStep(student, cb, o.labels, input, t, o.splitT);
    o.onStep?.({ index, t, input, output: x });
  });
  return { tokens: x, fhat: tokensToFhat(quant, x) };
}

export interface TeacherInvolvedOptions extends VarDDSampleOptions {
  /** The original VAR teacher of the same size. */
  readonly teacher: VAR;
  /** First scale the teacher samples (0 … t_list[1]); the official runs use 4, 3 or 0. */
  readonly teacherStart: number;
  /** Teacher guidance (default 2.0), top-k (900), top-p (0.95): combine_sample.py's values. */
  readonly cfg?: number;
  readonly topK?: number;
  readonly topP?: number;
  /** Teacher draws (teacherRng for the documented stream); or `choose` to replace sampling. */
  readonly rng?: T.Rng;
  readonly choose?: TokenChooser;
  /** Called after the teacher span with its sequence [B, cum_{t_list[1]}, Cv]. */
  readonly onTeacher?: (sequence: T.Tensor) => void;
}

/** Teacher-involved sampling (combine_sample.py): DD step, teacher span, final DD step. */
export function sampleVarDDWithTeacher(
  student: VarDD,
  quant: VectorQuantizer2,
  o: TeacherInvolvedOptions,
): VarDDSampleResult {
  checkInputs(student, quant, o);
  const { SN, cum } = student.sched.teacher;
  if (o.tList.length !== 2) {
    throw new Error(
      `sampleVarDDWithTeacher: t_list must have exactly two entries [t0, t1] (DD step, teacher up to scale t1, DD step at t1), got [${o.tList.join(', ')}]`,
    );
  }
  const [t0, t1] = o.tList as [number, number];
  const T0 = o.teacherStart;
  checkTimestep(student.sched, t0, 't_list[0]');
  if (!Number.isInteger(t1) || t1 < 1 || t1 > SN) {
    throw new Error(
      `sampleVarDDWithTeacher: t_list[1] = ${t1} must be in [1, ${SN}] (the teacher's end scale)`,
    );
  }
  if (!Number.isInteger(T0) || T0 < 0 || T0 > t1) {
    throw new Error(
      `sampleVarDDWithTeacher: teacher start ${T0} must be in [0, t_list[1] = ${t1}]`,
    );
  }
  const tc = o.teacher.config;
  if (tc.depth !== student.config.depth || tc.embed_dim !== student.config.embed_dim) {
    // Not fatal in principle, but the published runs always pair a student with its own teacher.
    throw new Error(
      `sampleVarDDWithTeacher: teacher depth ${tc.depth} / width ${tc.embed_dim} does not match the student's ${student.config.depth} / ${student.config.embed_dim}; use the teacher the student was distilled from`,
    );
  }
  const cb = quant.embedding.weight;
  const B = o.labels.length;
  const { L } = student;
  const Cv = student.config.Cvae;
  let x = o.noise;
  if (T0 > 0) {
    const input = perturb(student, x, t0, o.noise);
    x = ddStep(student, cb, o.labels, input, t0, o.splitT);
    o.onStep?.({ index: 0, t: t0, input, output: x });
    const idx = nearestCodebook(T.reshape(x, [B * L, Cv]), cb);
    x = T.reshape(T.embedding(cb, new T.Tensor(idx, [B * L])), [B, L, Cv]);
  }
  const res = generate(o.teacher, quant, {
    labels: o.labels,
    cfg: o.cfg ?? DD_TEACHER_DEFAULTS.cfg,
    topK: o.topK ?? DD_TEACHER_DEFAULTS.topK,
    topP: o.topP ?? DD_TEACHER_DEFAULTS.topP,
    ...(o.rng ? { rng: o.rng } : {}),
    ...(o.choose ? { choose: o.choose } : {}),
    ...(T0 > 0 ? { prefix: { tokens: x, startT: T0 } } : {}),
    endPoint: t1,
  });
  o.onTeacher?.(res.sequence);
  const n = cum[t1] as number;
  x = n < L ? T.concat([res.sequence, T.narrow(o.noise, 1, n, L - n)], 1) : res.sequence;
  if (t1 < SN) {
    const input = perturb(student, x, t1, o.noise);
    x = ddStep(student, cb, o.labels, input, t1, o.splitT);
    o.onStep?.({ index: 1, t: t1, input, output: x });
  }
  return { tokens: x, fhat: tokensToFhat(quant, x) };
}

/** Decoded images [B, 3, H, W] in [−1, 1] (the official samplers save (x + 1)/2). */
export function decodeVarDD(vae: VQVAE, r: VarDDSampleResult): T.Tensor {
  return vae.fhatToImg(r.fhat);
}
