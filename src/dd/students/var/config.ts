// Configuration of the VAR Distilled-Decoding student (VAR/models/dd.py `DD_Model`) and its
// derived schedule: the student prepends a 1×1 level to the teacher's patch_nums (its own scale
// list is (1, pn_0, …, pn_{SN−1}), L + 1 slots), the timestep t ∈ [0, SN) says how many leading
// teacher scales are clean data, and split_t ∈ [0, SN] says where the logits head hands over to
// the continuous head. See shared/reference/var-dd.md §4.2–§4.8.
//
// Letters used in this folder: B batch, L = Σ pn² teacher tokens (the student has L + 1 slots,
// slot 0 the class/start slot), C width, H heads, V codebook size, Cv codebook dim, SN teacher
// scales, t timestep (a teacher scale index), P concat position of split_t.

import {
  PATCH_NUMS_256,
  scaleSchedule,
  validateVarConfig,
  varConfigFromJson,
  varPreset,
  type ScaleSchedule,
  type VarConfig,
} from '../../../models/var/config.js';

/** DD_Model constructor arguments: the teacher's VarConfig (teacher patch_nums) plus the two
 *  flags that create the noise/data embeddings. */
export interface VarDDConfig extends VarConfig {
  /** `n_d_embed` (2 rows: 0 = noise, 1 = data). The official forward needs it (true). */
  readonly n_d_embed_enable: boolean;
  /** `layerwise_n_d_embed.0..depth` (depth + 1 Linear C→C); false adds the raw flag embedding
   *  inside every block and before the heads instead. */
  readonly layerwise_n_d_embed: boolean;
}

/** The split_t of the published commands: 5 for d16, 4 for d20/d24 (var-dd.md §4.12). */
export function defaultSplitT(depth: number): number {
  return depth <= 16 ? 5 : 4;
}

export function validateVarDDConfig(c: VarDDConfig): VarDDConfig {
  validateVarConfig(c);
  if (!c.n_d_embed_enable) {
    throw new Error(
      'VarDDConfig: n_d_embed_enable = false is not supported (the official DD_Model.forward always looks up n_d_embed and fails without it); use true',
    );
  }
  return c;
}

/** `VAR-DD/var-d{depth}.pth` as build_vae_dd makes it (the teacher preset plus both flags on). */
export function varDDPreset(depth: number, overrides: Partial<VarDDConfig> = {}): VarDDConfig {
  return validateVarDDConfig({
    ...varPreset(depth),
    n_d_embed_enable: true,
    layerwise_n_d_embed: true,
    ...overrides,
  });
}

/** A VarDDConfig from official constructor keys (a fixture's config.json). */
export function varDDConfigFromJson(o: Readonly<Record<string, unknown>>): VarDDConfig {
  const flag = (key: string): boolean => {
    const v = o[key] ?? true;
    if (typeof v !== 'boolean') {
      throw new Error(`var_dd config.json: '${key}' must be a boolean, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  return validateVarDDConfig({
    ...varConfigFromJson(o),
    n_d_embed_enable: flag('n_d_embed_enable'),
    layerwise_n_d_embed: flag('layerwise_n_d_embed'),
  });
}

/** Everything the student derives from the teacher's patch_nums. */
export interface DDSchedule {
  /** The teacher schedule (token space: L tokens, cum, HW, SN). */
  readonly teacher: ScaleSchedule;
  /** (1, pn_0, …, pn_{SN−1}). */
  readonly studentPatchNums: readonly number[];
  /** Student slots L + 1 (the official `self.L` of DD_Model). */
  readonly slots: number;
  /** Student level of every slot [L + 1] (the official lvl_1L): 0 for the class slot, k + 1 for
   *  the tokens of teacher scale k. */
  readonly level: Int32Array;
  /** accum_token_length: accum[i] = Σ of squared student sizes from student level i on, plus a
   *  trailing 0 (length SN + 2). */
  readonly accum: readonly number[];
}

export function ddSchedule(patchNums: readonly number[] = PATCH_NUMS_256): DDSchedule {
  const teacher = scaleSchedule(patchNums);
  const studentPatchNums = [1, ...patchNums];
  const slots = teacher.L + 1;
  const level = new Int32Array(slots);
  for (let k = 0; k < teacher.SN; k++) {
    level.fill(k + 1, (teacher.cum[k] as number) + 1, (teacher.cum[k + 1] as number) + 1);
  }
  const accum = studentPatchNums.map((_, i) =>
    studentPatchNums.slice(i).reduce((s, pn) => s + pn * pn, 0),
  );
  accum.push(0);
  return { teacher, studentPatchNums, slots, level, accum };
}

/** Checks one timestep: an integer in [0, SN). */
export function checkTimestep(s: DDSchedule, t: number, what = 'timestep'): void {
  const SN = s.teacher.SN;
  if (!Number.isInteger(t) || t < 0 || t >= SN) {
    throw new Error(
      `${what} ${t} is outside [0, ${SN - 1}]: t counts the leading teacher scales given as data (${SN} scales)`,
    );
  }
}

/** Number of leading data tokens at timestep t (token space): cum_t = L − accum[t + 1]. */
export function dataTokens(s: DDSchedule, t: number): number {
  checkTimestep(s, t);
  return s.teacher.L - (s.accum[t + 1] as number);
}

/** get_final_sequence's concat position P = (L + 1) − accum[split_t + 1] − 1 = cum_{split_t}:
 *  tokens before P come from the logits head (greedy), the rest from the continuous head. */
export function concatPos(s: DDSchedule, splitT: number): number {
  const SN = s.teacher.SN;
  if (!Number.isInteger(splitT) || splitT < 0 || splitT > SN) {
    throw new Error(`split_t ${splitT} is outside [0, ${SN}] (${SN} teacher scales)`);
  }
  return s.slots - (s.accum[splitT + 1] as number) - 1;
}

/** noise_mask [SN, L] (1 where perturb_data puts noise: tokens [cum_t, L) of row t). */
export function noiseMask(s: DDSchedule): Float32Array {
  const { SN, L } = s.teacher;
  const m = new Float32Array(SN * L);
  for (let t = 0; t < SN; t++) m.fill(1, t * L + dataTokens(s, t), (t + 1) * L);
  return m;
}

/** The student's attn_bias_for_masking [L + 1, L + 1]: 0 where slot i may see slot j (a strictly
 *  earlier level, or j = i), −∞ elsewhere (var-dd.md §4.4). */
export function studentMask(s: DDSchedule): Float32Array {
  const n = s.slots;
  const lv = s.level;
  const m = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = lv[i] as number;
    for (let j = 0; j < n; j++) if (j !== i && (lv[j] as number) >= li) m[i * n + j] = -Infinity;
  }
  return m;
}
