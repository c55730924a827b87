// VAR teacher and multi-scale VQVAE configurations with the official constructor argument names
// (VAR/models/var.py `VAR`, models/vqvae.py `VQVAE`), the presets that the official
// `build_vae_var` builds (depth 16/20/24/30 at 256 px), and the derived scale schedule.
//
// Letters used in this folder: B batch, C width, H heads, Dh head dim, L tokens, V codebook size,
// Cv (Cvae) codebook dim, SN number of scales, pn side of one scale, HW side of the last scale.

/** VAR constructor arguments (plus the VAE's V and Cvae), named as the official ones. */
export interface VarConfig {
  readonly depth: number;
  readonly embed_dim: number;
  readonly num_heads: number;
  readonly mlp_ratio: number;
  readonly norm_eps: number;
  readonly attn_l2_norm: boolean;
  readonly shared_aln: boolean;
  readonly num_classes: number;
  readonly cond_drop_rate: number;
  readonly patch_nums: readonly number[];
  readonly vocab_size: number;
  readonly Cvae: number;
}

/** VQVAE constructor arguments (ddconfig fields spelled out), named as the official ones. */
export interface VqvaeConfig {
  readonly vocab_size: number;
  readonly z_channels: number;
  readonly ch: number;
  readonly encoder_ch_mult: readonly number[];
  readonly decoder_ch_mult: readonly number[];
  readonly num_res_blocks: number;
  readonly using_sa: boolean;
  readonly using_mid_sa: boolean;
  readonly groupnorm_groups: number;
  readonly using_znorm: boolean;
  readonly quant_conv_ks: number;
  readonly quant_resi: number;
  readonly share_quant_resi: number;
  readonly v_patch_nums: readonly number[];
}

export const PATCH_NUMS_256: readonly number[] = [1, 2, 3, 4, 5, 6, 8, 10, 13, 16];
export const PATCH_NUMS_512: readonly number[] = [1, 2, 3, 4, 6, 9, 13, 18, 24, 32];

export type VarDepth = 16 | 20 | 24 | 30;
export const VAR_DEPTHS: readonly VarDepth[] = [16, 20, 24, 30];

/** `vae_ch160v4096z32.pth`: the VQVAE every released VAR uses (ch 160, not the class default). */
export const VQVAE_CH160V4096Z32: VqvaeConfig = {
  vocab_size: 4096,
  z_channels: 32,
  ch: 160,
  encoder_ch_mult: [1, 1, 2, 2, 4],
  decoder_ch_mult: [1, 1, 2, 2, 4],
  num_res_blocks: 2,
  using_sa: true,
  using_mid_sa: true,
  groupnorm_groups: 32,
  using_znorm: false,
  quant_conv_ks: 3,
  quant_resi: 0.5,
  share_quant_resi: 4,
  v_patch_nums: PATCH_NUMS_256,
};

/** `var_d{depth}.pth` as build_vae_var makes it: C = 64·depth, H = depth, shared AdaLN off,
 *  L2-normalised attention on, 1000 classes (cond_drop_rate is a training-only setting). */
export function varPreset(depth: number, overrides: Partial<VarConfig> = {}): VarConfig {
  if (!Number.isInteger(depth) || depth <= 0) {
    throw new Error(`varPreset: depth must be a positive integer (16, 20, 24 or 30), got ${depth}`);
  }
  return validateVarConfig({
    depth,
    embed_dim: 64 * depth,
    num_heads: depth,
    mlp_ratio: 4,
    norm_eps: 1e-6,
    attn_l2_norm: true,
    shared_aln: false,
    num_classes: 1000,
    cond_drop_rate: 0.1,
    patch_nums: PATCH_NUMS_256,
    vocab_size: VQVAE_CH160V4096Z32.vocab_size,
    Cvae: VQVAE_CH160V4096Z32.z_channels,
    ...overrides,
  });
}

function fail(what: string, msg: string): never {
  throw new Error(`${what}: ${msg}`);
}

function posInt(what: string, key: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) fail(what, `${key} must be a positive integer, got ${v}`);
}

export function validatePatchNums(what: string, pns: readonly number[]): void {
  if (pns.length < 2) fail(what, `patch_nums needs at least 2 scales, got [${pns.join(', ')}]`);
  for (let i = 0; i < pns.length; i++) {
    posInt(what, 'patch_nums entries', pns[i] as number);
    if (i > 0 && (pns[i] as number) <= (pns[i - 1] as number)) {
      fail(what, `patch_nums must be strictly increasing, got [${pns.join(', ')}]`);
    }
  }
}

export function validateVarConfig(c: VarConfig): VarConfig {
  const w = 'VarConfig';
  for (const k of [
    'depth',
    'embed_dim',
    'num_heads',
    'num_classes',
    'vocab_size',
    'Cvae',
  ] as const) {
    posInt(w, k, c[k]);
  }
  if (c.embed_dim % c.num_heads !== 0) {
    fail(w, `embed_dim ${c.embed_dim} is not divisible by num_heads ${c.num_heads}`);
  }
  if (!(c.mlp_ratio > 0)) fail(w, `mlp_ratio must be positive, got ${c.mlp_ratio}`);
  if (!(c.norm_eps > 0)) fail(w, `norm_eps must be positive, got ${c.norm_eps}`);
  validatePatchNums(w, c.patch_nums);
  return c;
}

export function validateVqvaeConfig(c: VqvaeConfig): VqvaeConfig {
  const w = 'VqvaeConfig';
  for (const k of [
    'vocab_size',
    'z_channels',
    'ch',
    'num_res_blocks',
    'groupnorm_groups',
  ] as const) {
    posInt(w, k, c[k]);
  }
  for (const key of ['encoder_ch_mult', 'decoder_ch_mult'] as const) {
    const m = c[key];
    if (m.length === 0) fail(w, `${key} must not be empty`);
    for (const x of m) {
      posInt(w, key, x);
      if ((c.ch * x) % c.groupnorm_groups !== 0) {
        fail(w, `width ${c.ch}·${x} is not a multiple of ${c.groupnorm_groups} GroupNorm groups`);
      }
    }
  }
  if (c.quant_conv_ks % 2 !== 1) fail(w, `quant_conv_ks must be odd, got ${c.quant_conv_ks}`);
  if (!Number.isInteger(c.share_quant_resi) || c.share_quant_resi < 0) {
    fail(
      w,
      `share_quant_resi must be 0 (one Φ per scale), 1 (shared) or K > 1, got ${c.share_quant_resi}`,
    );
  }
  validatePatchNums(w, c.v_patch_nums);
  return c;
}

// ---- reading config.json (fixtures, checkpoint metadata) --------------------------------------

type Json = Readonly<Record<string, unknown>>;

function num(what: string, o: Json, key: string, dflt?: number): number {
  const v = o[key] ?? dflt;
  if (typeof v !== 'number')
    fail(what, `config key '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function bool(what: string, o: Json, key: string, dflt?: boolean): boolean {
  const v = o[key] ?? dflt;
  if (typeof v !== 'boolean')
    fail(what, `config key '${key}' must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function nums(what: string, o: Json, key: string, dflt?: readonly number[]): number[] {
  const v = o[key] ?? dflt;
  if (!Array.isArray(v) || !v.every((x): x is number => typeof x === 'number')) {
    fail(what, `config key '${key}' must be an array of numbers, got ${JSON.stringify(v)}`);
  }
  return [...v];
}

/** A VarConfig from official constructor keys (as in a fixture's config.json). */
export function varConfigFromJson(o: Json): VarConfig {
  const w = 'var config.json';
  return validateVarConfig({
    depth: num(w, o, 'depth'),
    embed_dim: num(w, o, 'embed_dim'),
    num_heads: num(w, o, 'num_heads'),
    mlp_ratio: num(w, o, 'mlp_ratio', 4),
    norm_eps: num(w, o, 'norm_eps', 1e-6),
    attn_l2_norm: bool(w, o, 'attn_l2_norm', true),
    shared_aln: bool(w, o, 'shared_aln', false),
    num_classes: num(w, o, 'num_classes', 1000),
    cond_drop_rate: num(w, o, 'cond_drop_rate', 0.1),
    patch_nums: nums(w, o, 'patch_nums', PATCH_NUMS_256),
    vocab_size: num(w, o, 'vocab_size', 4096),
    Cvae: num(w, o, 'Cvae', 32),
  });
}

/** A VqvaeConfig from official constructor keys (as in a fixture's config.json). */
export function vqvaeConfigFromJson(o: Json): VqvaeConfig {
  const w = 'vqvae config.json';
  const d = VQVAE_CH160V4096Z32;
  const chMult = o['ch_mult'] === undefined ? d.encoder_ch_mult : nums(w, o, 'ch_mult');
  return validateVqvaeConfig({
    vocab_size: num(w, o, 'vocab_size', d.vocab_size),
    z_channels: num(w, o, 'z_channels', d.z_channels),
    ch: num(w, o, 'ch', d.ch),
    encoder_ch_mult: nums(w, o, 'encoder_ch_mult', chMult),
    decoder_ch_mult: nums(w, o, 'decoder_ch_mult', chMult),
    num_res_blocks: num(w, o, 'num_res_blocks', d.num_res_blocks),
    using_sa: bool(w, o, 'using_sa', true),
    using_mid_sa: bool(w, o, 'using_mid_sa', true),
    groupnorm_groups: num(w, o, 'groupnorm_groups', 32),
    using_znorm: bool(w, o, 'using_znorm', false),
    quant_conv_ks: num(w, o, 'quant_conv_ks', 3),
    quant_resi: num(w, o, 'quant_resi', 0.5),
    share_quant_resi: num(w, o, 'share_quant_resi', 4),
    v_patch_nums: nums(w, o, 'v_patch_nums', d.v_patch_nums),
  });
}

// ---- the scale schedule ------------------------------------------------------------------------

export interface ScaleSchedule {
  readonly patchNums: readonly number[];
  /** Number of scales. */
  readonly SN: number;
  /** Σ pn². */
  readonly L: number;
  /** Side of the last scale (of f̂). */
  readonly HW: number;
  /** cum[k] = Σ_{i<k} pn_i² (length SN + 1; cum[SN] = L). */
  readonly cum: readonly number[];
  /** Scale index of every token slot [L] (the official lvl_1L). */
  readonly level: Int32Array;
}

export function scaleSchedule(patchNums: readonly number[]): ScaleSchedule {
  validatePatchNums('scaleSchedule', patchNums);
  const cum = [0];
  for (const pn of patchNums) cum.push((cum[cum.length - 1] as number) + pn * pn);
  const L = cum[cum.length - 1] as number;
  const level = new Int32Array(L);
  patchNums.forEach((_, k) => level.fill(k, cum[k] as number, cum[k + 1] as number));
  return {
    patchNums: [...patchNums],
    SN: patchNums.length,
    L,
    HW: patchNums[patchNums.length - 1] as number,
    cum,
    level,
  };
}
