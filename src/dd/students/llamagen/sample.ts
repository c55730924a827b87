// DD student samplers: few-step sampling (eval_fewstep.py) over any t_list, and teacher-involved
// sampling (eval_combine_sample.py): a DD step, the teacher continues the prefix, a final DD
// step. Both re-use the ORIGINAL noise ε at every step: positions ≥ t are reset to ε, earlier
// predictions for them are thrown away.
//
// Letters: B batch, L image tokens, c codebook dim, V codebook size, P teacher_start_t.
//
// Randomness (the stream layout of src/tensor/rng.ts; the same as the dataset generator's, so
// sample i of seed s starts from the very ε of dataset sample i of seed s):
//   noise of sample i          = the first L·c normals of Rng(seed, stream 2i), row-major [L, c]
//   teacher draws of a batch   = Rng(seed, stream 2·i0 + 1), i0 = the batch's first sample index
//                                (one uniform per sample per teacher token; batch-dependent)
// The student itself is deterministic; the labels are the caller's.
//
// One DD step at timestep t with split_t (the official final_predict + get_final_x_BLC, computed
// without the parts that are thrown away):
//   x_t[j] = x[j] for j < t, ε[j] for j ≥ t
//   j < split_t, j < t : codebook[nearest(x_t[j])]      (one-hot logits → argmax = nearest row)
//   j < split_t, j ≥ t : codebook[argmax logits[j]]     (logits computed for [t, split_t) only)
//   j ≥ split_t, j < t : x_t[j]
//   j ≥ split_t, j ≥ t : continuous head[j]

import * as T from '../../../tensor/index.js';
import { Rng, type Tensor } from '../../../tensor/index.js';
import type { Transformer } from '../../../models/llamagen/gpt.js';
import { generate, type SamplingConfig } from '../../../models/llamagen/generate.js';
import type { DDTransformer } from './student.js';
import { argmaxRows } from '../../../sampling/argmax.js';
import { checkCodebook, checkSplit, nearestCodebook, perturbData } from './predict.js';



/** What one DD step saw and produced (for progress, tests and parity checks). */
export interface StepTrace {
  readonly step: number;
  readonly t: number;
  /** The student input x_t [B, L, c]. */
  readonly xT: Float32Array;
  /** The new x [B, L, c]. */
  readonly x: Float32Array;
}

function labelsTensor(labels: Tensor | Int32Array): Tensor {
  return labels instanceof Int32Array ? new T.Tensor(labels, [labels.length]) : labels;
}

function checkT(what: string, t: number, L: number): void {
  if (!Number.isInteger(t) || t < 0 || t > L)
    throw new Error(`${what}: timestep ${t} must be an integer in [0, ${L}] (image tokens known)`);
}

/** One DD step (see the header): x, ε [B, L, c] → the new x [B, L, c]. */
export function ddStep(
  model: DDTransformer,
  x: Float32Array,
  noise: Float32Array,
  labels: Tensor | Int32Array,
  t: number,
  splitT: number,
  codebook: Tensor,
): { xT: Float32Array; x: Float32Array } {
  const { block_size: L, codebook_dim: c, vocab_size: V } = model.config;
  const lab = labelsTensor(labels);
  const B = lab.size;
  checkT('ddStep', t, L);
  checkSplit(splitT);
  checkCodebook('ddStep', codebook, V, c);
  const cb = codebook.data as Float32Array;
  const xT = perturbData(x, noise, t, B, L, c);
  const known = Math.min(t, splitT, L); // j < known: snapped to the nearest codebook row
  const from = Math.min(t, L);
  const to = Math.max(from, Math.min(splitT, L)); // argmax of the logits over [from, to)
  const rows: number[] = [];
  for (let b = 0; b < B; b++) for (let j = 0; j < known; j++) rows.push(b * L + j);
  const idx = nearestCodebook(xT, cb, c, rows);
  const out = T.noGrad(() =>
    model.forward(new T.Tensor(xT, [B, L, c]), lab, t, { logitsRange: [from, to] }),
  );
  const tok = out.tokens.data as Float32Array; // [B, L, c]
  const n = to - from;
  const arg = argmaxRows(out.logits.data as Float32Array, B * n, V); // [B, n]
  const next = new Float32Array(B * L * c);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < L; j++) {
      const r = b * L + j;
      let src: Float32Array;
      let o: number;
      if (j < splitT) {
        const k = j < t ? (idx[r] as number) : (arg[b * n + j - from] as number);
        src = cb;
        o = k * c;
      } else if (j < t) {
        src = xT;
        o = r * c;
      } else {
        src = tok;
        o = r * c;
      }
      next.set(src.subarray(o, o + c), r * c);
    }
  }
  return { xT, x: next };
}

export interface FewStepOptions {
  /** Ascending timesteps; the official runs use [0] (1 step) and [0, t1] (2 steps). */
  readonly tList: readonly number[];
  /** First position taken from the continuous head (published: 80 for B, 130 for L). */
  readonly splitT: number;
  /** ε [B, L, c] (ddNoise), re-used at every step. */
  readonly noise: Float32Array;
  /** The VQ's l2-normalised codebook [V, c]. */
  readonly codebook: Tensor;
  readonly onStep?: (trace: StepTrace) => void;
}

function checkNoise(what: string, noise: Float32Array, B: number, L: number, c: number): void {
  if (noise.length !== B * L * c)
    throw new Error(
      `${what}: noise must be [${B}, ${L}, ${c}] (${B * L * c} values), got ${noise.length}`,
    );
}

/** Few-step sampling (eval_fewstep.py): x ← ε; for t in t_list: x ← ddStep(x, t). → the final
 *  token vectors [B, L, c] (decode with toLatent + the VQ decoder). */
export function sampleFewStep(
  model: DDTransformer,
  labels: Tensor | Int32Array,
  opts: FewStepOptions,
): Tensor {
  const { block_size: L, codebook_dim: c } = model.config;
  const lab = labelsTensor(labels);
  const B = lab.size;
  checkNoise('sampleFewStep', opts.noise, B, L, c);
  if (opts.tList.length === 0) throw new Error('sampleFewStep: t_list is empty; 1 step is [0]');
  opts.tList.forEach((t, i) => {
    checkT('sampleFewStep', t, L);
    if (i > 0 && t <= (opts.tList[i - 1] as number))
      throw new Error(`sampleFewStep: t_list [${opts.tList.join(', ')}] must be ascending`);
  });
  let x = opts.noise;
  opts.tList.forEach((t, step) => {
    const r = ddStep(model, x, opts.noise, lab, t, opts.splitT, opts.codebook);
    x = r.x;
    opts.onStep?.({ step, t, xT: r.xT, x });
  });
  return new T.Tensor(x === opts.noise ? x.slice() : x, [B, L, c]);
}

export interface TeacherInvolvedOptions extends SamplingConfig {
  /** The original LlamaGen GPT (same vocabulary and block_size; fp32 here, bf16 officially). */
  readonly teacher: Transformer;
  /** [t0, t1, …]: only t0 (the first DD step) and t1 (where the teacher stops) are read. */
  readonly tList: readonly number[];
  /** P: tokens drafted by the student before the teacher takes over (0 = teacher from scratch). */
  readonly teacherStartT: number;
  readonly splitT: number;
  readonly noise: Float32Array;
  readonly codebook: Tensor;
  /** The teacher's randomness (ddTeacherRng), independent of ε. */
  readonly rng: Rng;
  readonly onStep?: (trace: StepTrace) => void;
  /** Teacher progress: (tokens done, tokens total). */
  readonly onTeacherStep?: (done: number, total: number) => void;
  /** Replaces the teacher's sampling (tests): CFG-mixed logits [B, V] at new token `step`. */
  readonly choose?: (logits: Float32Array, step: number) => Int32Array;
}

/** Teacher-involved sampling (eval_combine_sample.py): with P > 0, one DD step at t0, re-quantise
 *  its first P tokens, and let the teacher continue that prefix up to t1 (intermediate_generate);
 *  with P = 0 the teacher generates tokens 0..t1−1 from scratch. Then x = codebook[teacher
 *  tokens] followed by ε[t1:], and a final DD step at t1 (skipped when t1 = L). → [B, L, c].
 *  Forward passes: [1 if P > 0] + (t1 − P) teacher + [1 if t1 < L]. */
export function sampleWithTeacher(
  model: DDTransformer,
  labels: Tensor | Int32Array,
  opts: TeacherInvolvedOptions,
): Tensor {
  const { block_size: L, codebook_dim: c, vocab_size: V } = model.config;
  const lab = labelsTensor(labels);
  const B = lab.size;
  checkNoise('sampleWithTeacher', opts.noise, B, L, c);
  checkCodebook('sampleWithTeacher', opts.codebook, V, c);
  const tc = opts.teacher.config;
  if (tc.vocab_size !== V || tc.block_size !== L) {
    throw new Error(
      `sampleWithTeacher: the teacher (vocab ${tc.vocab_size}, block_size ${tc.block_size}) does not match the student (vocab ${V}, block_size ${L})`,
    );
  }
  const [t0, t1] = opts.tList;
  if (t0 === undefined || t1 === undefined) {
    throw new Error(
      `sampleWithTeacher: t_list needs two entries [t0, t1] (the official script reads t_list[1]); got [${opts.tList.join(', ')}]`,
    );
  }
  const P = opts.teacherStartT;
  checkT('sampleWithTeacher', t0, L);
  checkT('sampleWithTeacher', t1, L);
  if (!Number.isInteger(P) || P < 0 || P >= t1) {
    throw new Error(
      `sampleWithTeacher: teacher_start_t ${P} must be an integer in [0, t1 = ${t1}) (the teacher generates tokens P..t1−1)`,
    );
  }
  const cb = opts.codebook.data as Float32Array;
  let x = opts.noise;
  let step = 0;
  let prefix: Tensor | undefined;
  if (P > 0) {
    const r = ddStep(model, x, opts.noise, lab, t0, opts.splitT, opts.codebook);
    x = r.x;
    opts.onStep?.({ step: step++, t: t0, xT: r.xT, x });
    const rows: number[] = [];
    for (let b = 0; b < B; b++) for (let j = 0; j < P; j++) rows.push(b * L + j);
    const idx = nearestCodebook(x, cb, c, rows);
    const pre = new Int32Array(B * P);
    for (let b = 0; b < B; b++) pre.set(idx.subarray(b * L, b * L + P), b * P);
    prefix = new T.Tensor(pre, [B, P]);
  }
  const tokens = generate(opts.teacher, lab, {
    cfgScale: opts.cfgScale,
    ...(opts.cfgInterval !== undefined ? { cfgInterval: opts.cfgInterval } : {}),
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.topK !== undefined ? { topK: opts.topK } : {}),
    ...(opts.topP !== undefined ? { topP: opts.topP } : {}),
    ...(prefix ? { prefix } : {}),
    ...(opts.choose ? { choose: opts.choose } : {}),
    ...(opts.onTeacherStep ? { onStep: opts.onTeacherStep } : {}),
    maxNewTokens: t1 - P,
    rng: opts.rng,
  }); // [B, t1]
  const td = tokens.data as Int32Array;
  const xt = opts.noise.slice(); // codebook[tokens] for j < t1, ε after
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < t1; j++) {
      const k = td[b * t1 + j] as number;
      xt.set(cb.subarray(k * c, (k + 1) * c), (b * L + j) * c);
    }
  }
  x = xt;
  if (t1 < L) {
    const r = ddStep(model, x, opts.noise, lab, t1, opts.splitT, opts.codebook);
    x = r.x;
    opts.onStep?.({ step, t: t1, xT: r.xT, x });
  }
  return new T.Tensor(x, [B, L, c]);
}
