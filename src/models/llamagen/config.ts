// LlamaGen GPT and VQ-16 configurations with the official constructor argument names
// (autoregressive/models/gpt.py ModelArgs, tokenizer/tokenizer_image/vq_model.py ModelArgs),
// the official size presets, and the derived sizes (head dim, SwiGLU width, token grid).

/** GPT constructor arguments, named as the official `ModelArgs` fields. */
export interface GptConfig {
  readonly dim: number;
  readonly n_layer: number;
  readonly n_head: number;
  /** Key/value heads (grouped-query attention); null = n_head. */
  readonly n_kv_head: number | null;
  readonly multiple_of: number;
  readonly ffn_dim_multiplier: number | null;
  readonly rope_base: number;
  readonly norm_eps: number;
  readonly num_classes: number;
  readonly caption_dim: number;
  readonly class_dropout_prob: number;
  readonly model_type: 'c2i' | 't2i';
  readonly vocab_size: number;
  readonly cls_token_num: number;
  /** Image tokens per sample (a square grid). */
  readonly block_size: number;
}

export type GptPresetName =
  'GPT-B' | 'GPT-L' | 'GPT-XL' | 'GPT-XXL' | 'GPT-XXXL' | 'GPT-1B' | 'GPT-3B' | 'GPT-7B';

/** The official model-size table (GPT_models in gpt.py): layers, heads, width. */
export const GPT_PRESETS: Readonly<
  Record<GptPresetName, { readonly n_layer: number; readonly n_head: number; readonly dim: number }>
> = {
  'GPT-B': { n_layer: 12, n_head: 12, dim: 768 },
  'GPT-L': { n_layer: 24, n_head: 16, dim: 1024 },
  'GPT-XL': { n_layer: 36, n_head: 20, dim: 1280 },
  'GPT-XXL': { n_layer: 48, n_head: 24, dim: 1536 },
  'GPT-XXXL': { n_layer: 48, n_head: 40, dim: 2560 },
  'GPT-1B': { n_layer: 22, n_head: 32, dim: 2048 },
  'GPT-3B': { n_layer: 24, n_head: 32, dim: 3200 },
  'GPT-7B': { n_layer: 32, n_head: 32, dim: 4096 },
};

/** ModelArgs defaults of the class-conditional 256×256 models (16×16 tokens). */
export const GPT_DEFAULTS: GptConfig = {
  dim: 768,
  n_layer: 12,
  n_head: 12,
  n_kv_head: null,
  multiple_of: 256,
  ffn_dim_multiplier: null,
  rope_base: 10000,
  norm_eps: 1e-5,
  num_classes: 1000,
  caption_dim: 2048,
  class_dropout_prob: 0.1,
  model_type: 'c2i',
  vocab_size: 16384,
  cls_token_num: 1,
  block_size: 256,
};

export function isGptPreset(name: string): name is GptPresetName {
  return Object.prototype.hasOwnProperty.call(GPT_PRESETS, name);
}

/** A preset with overrides (e.g. { block_size: 576 } for 384×384 images), validated. */
export function gptConfig(
  preset: GptPresetName | null,
  overrides: Partial<GptConfig> = {},
): GptConfig {
  const size = preset === null ? {} : GPT_PRESETS[preset];
  return validateGptConfig({ ...GPT_DEFAULTS, ...size, ...overrides });
}

function roundUp(n: number, k: number): number {
  return n % k === 0 ? n : n + k - (n % k);
}

/** Derived sizes: head dim d, kv heads, SwiGLU width F, grid side G. */
export interface GptDims {
  readonly headDim: number;
  readonly kvHeads: number;
  readonly ffnHidden: number;
  readonly grid: number;
}

export function gptDims(c: GptConfig): GptDims {
  let hidden = Math.trunc((2 * (4 * c.dim)) / 3);
  if (c.ffn_dim_multiplier !== null) hidden = Math.trunc(c.ffn_dim_multiplier * hidden);
  return {
    headDim: c.dim / c.n_head,
    kvHeads: c.n_kv_head ?? c.n_head,
    ffnHidden: roundUp(hidden, c.multiple_of),
    grid: Math.trunc(Math.sqrt(c.block_size)),
  };
}

function positiveInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
    throw new Error(`GptConfig: ${name} must be a positive integer, got ${String(v)}`);
  }
}

export function validateGptConfig(c: GptConfig): GptConfig {
  for (const k of [
    'dim',
    'n_layer',
    'n_head',
    'multiple_of',
    'vocab_size',
    'cls_token_num',
    'block_size',
  ] as const) {
    positiveInt(k, c[k]);
  }
  if (c.dim % c.n_head !== 0)
    throw new Error(`GptConfig: dim ${c.dim} is not divisible by n_head ${c.n_head}`);
  const d = c.dim / c.n_head;
  if (d % 4 !== 0)
    throw new Error(`GptConfig: head dim ${d} must be a multiple of 4 for the 2-D RoPE`);
  if (c.n_kv_head !== null) {
    positiveInt('n_kv_head', c.n_kv_head);
    if (c.n_head % c.n_kv_head !== 0) {
      throw new Error(
        `GptConfig: n_head ${c.n_head} is not a multiple of n_kv_head ${c.n_kv_head}`,
      );
    }
  }
  const g = Math.trunc(Math.sqrt(c.block_size));
  if (g * g !== c.block_size) {
    throw new Error(
      `GptConfig: block_size ${c.block_size} is not a square grid (16×16 = 256 for 256×256 images)`,
    );
  }
  if (c.model_type !== 'c2i' && c.model_type !== 't2i') {
    throw new Error(`GptConfig: model_type must be 'c2i' or 't2i', got '${String(c.model_type)}'`);
  }
  if (c.model_type === 'c2i') positiveInt('num_classes', c.num_classes);
  else positiveInt('caption_dim', c.caption_dim);
  return Object.freeze({ ...c });
}

/** Builds a GptConfig from a JSON object carrying official ModelArgs keys (unknown keys ignored). */
export function gptConfigFromJson(j: Readonly<Record<string, unknown>>): GptConfig {
  const d = GPT_DEFAULTS;
  const num = (k: keyof GptConfig, def: number): number => {
    const v = j[k];
    if (v === undefined) return def;
    if (typeof v !== 'number')
      throw new Error(`GptConfig: ${k} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const numOrNull = (k: keyof GptConfig, def: number | null): number | null =>
    j[k] === null || (j[k] === undefined && def === null) ? null : num(k, def ?? 0);
  const mt = j.model_type ?? d.model_type;
  if (mt !== 'c2i' && mt !== 't2i')
    throw new Error(`GptConfig: model_type must be 'c2i' or 't2i', got ${JSON.stringify(mt)}`);
  return validateGptConfig({
    dim: num('dim', d.dim),
    n_layer: num('n_layer', d.n_layer),
    n_head: num('n_head', d.n_head),
    n_kv_head: numOrNull('n_kv_head', d.n_kv_head),
    multiple_of: num('multiple_of', d.multiple_of),
    ffn_dim_multiplier: numOrNull('ffn_dim_multiplier', d.ffn_dim_multiplier),
    rope_base: num('rope_base', d.rope_base),
    norm_eps: num('norm_eps', d.norm_eps),
    num_classes: num('num_classes', d.num_classes),
    caption_dim: num('caption_dim', d.caption_dim),
    class_dropout_prob: num('class_dropout_prob', d.class_dropout_prob),
    model_type: mt,
    vocab_size: num('vocab_size', d.vocab_size),
    cls_token_num: num('cls_token_num', d.cls_token_num),
    block_size: num('block_size', d.block_size),
  });
}

// ---- VQ tokenizer ----------------------------------------------------------------------------

/** VQModel constructor arguments (ModelArgs of vq_model.py) plus the Encoder/Decoder class
 *  defaults `ch` and `num_res_blocks`, which the official VQModel never overrides. */
export interface VqConfig {
  readonly codebook_size: number;
  readonly codebook_embed_dim: number;
  readonly codebook_l2_norm: boolean;
  readonly codebook_show_usage: boolean;
  readonly encoder_ch_mult: readonly number[];
  readonly decoder_ch_mult: readonly number[];
  readonly z_channels: number;
  readonly dropout_p: number;
  readonly ch: number;
  readonly num_res_blocks: number;
}

/** VQ-16 (`vq_ds16_c2i.pt`). */
export const VQ_16: VqConfig = Object.freeze({
  codebook_size: 16384,
  codebook_embed_dim: 8,
  codebook_l2_norm: true,
  codebook_show_usage: true,
  encoder_ch_mult: [1, 1, 2, 2, 4],
  decoder_ch_mult: [1, 1, 2, 2, 4],
  z_channels: 256,
  dropout_p: 0.0,
  ch: 128,
  num_res_blocks: 2,
});

export function validateVqConfig(c: VqConfig): VqConfig {
  for (const k of [
    'codebook_size',
    'codebook_embed_dim',
    'z_channels',
    'ch',
    'num_res_blocks',
  ] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0)
      throw new Error(`VqConfig: ${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.encoder_ch_mult.length === 0 || c.encoder_ch_mult.length !== c.decoder_ch_mult.length) {
    throw new Error(
      `VqConfig: encoder_ch_mult [${c.encoder_ch_mult.join(', ')}] and decoder_ch_mult [${c.decoder_ch_mult.join(', ')}] must be non-empty and of equal length`,
    );
  }
  for (const m of [...c.encoder_ch_mult, ...c.decoder_ch_mult]) {
    if ((c.ch * m) % 32 !== 0)
      throw new Error(
        `VqConfig: width ch·mult = ${c.ch * m} is not a multiple of the 32 GroupNorm groups`,
      );
  }
  return Object.freeze({
    ...c,
    encoder_ch_mult: [...c.encoder_ch_mult],
    decoder_ch_mult: [...c.decoder_ch_mult],
  });
}

/** Downsampling factor 2^(levels − 1) (16 for VQ-16). */
export function vqDownsample(c: VqConfig): number {
  return 2 ** (c.encoder_ch_mult.length - 1);
}

export function vqConfigFromJson(j: Readonly<Record<string, unknown>>): VqConfig {
  const num = (k: string, d: number): number => (typeof j[k] === 'number' ? (j[k] as number) : d);
  const bool = (k: string, d: boolean): boolean =>
    typeof j[k] === 'boolean' ? (j[k] as boolean) : d;
  const arr = (k: string, d: readonly number[]): readonly number[] =>
    Array.isArray(j[k]) ? (j[k] as unknown[]).map((v) => Number(v)) : d;
  return validateVqConfig({
    codebook_size: num('codebook_size', VQ_16.codebook_size),
    codebook_embed_dim: num('codebook_embed_dim', VQ_16.codebook_embed_dim),
    codebook_l2_norm: bool('codebook_l2_norm', VQ_16.codebook_l2_norm),
    codebook_show_usage: bool('codebook_show_usage', VQ_16.codebook_show_usage),
    encoder_ch_mult: arr('encoder_ch_mult', VQ_16.encoder_ch_mult),
    decoder_ch_mult: arr('decoder_ch_mult', VQ_16.decoder_ch_mult),
    z_channels: num('z_channels', VQ_16.z_channels),
    dropout_p: num('dropout_p', VQ_16.dropout_p),
    ch: num('ch', VQ_16.ch),
    num_res_blocks: num('num_res_blocks', VQ_16.num_res_blocks),
  });
}
