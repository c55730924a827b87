// Configuration of the LlamaGen DD student (autoregressive/models/dd.py, ModelArgs): the
// teacher's GptConfig plus the codebook dimension. The official student always builds its class
// table with num_classes + 1 rows (its LabelEmbedder ignores the dropout probability) and has
// exactly one condition token: the noise/data flag rule is written for L + 1 positions.

import {
  GPT_DEFAULTS,
  GPT_PRESETS,
  gptConfigFromJson,
  isGptPreset,
  validateGptConfig,
  type GptConfig,
  type GptPresetName,
} from '../../../models/llamagen/config.js';

export interface DDConfig extends GptConfig {
  /** Width c of the continuous tokens (the VQ codebook dimension; 8 for VQ-16). */
  readonly codebook_dim: number;
}

/** The released students: GPT-B / GPT-L at 256×256 (16×16 tokens), VQ-16 codebook. */
export const DD_DEFAULTS: DDConfig = Object.freeze({
  ...GPT_DEFAULTS,
  // The student's class table always has the null row; the probability itself is unused.
  class_dropout_prob: 0,
  codebook_dim: 8,
});

export function validateDDConfig(c: DDConfig): DDConfig {
  const g = validateGptConfig(c);
  if (c.model_type !== 'c2i') {
    throw new Error(
      `DDConfig: only class-conditional students exist (model_type 'c2i'); got '${c.model_type}'`,
    );
  }
  if (c.cls_token_num !== 1) {
    throw new Error(
      `DDConfig: the student has exactly one condition token (its noise/data flags cover L + 1 positions); got cls_token_num ${c.cls_token_num}`,
    );
  }
  if (!Number.isInteger(c.codebook_dim) || c.codebook_dim <= 0) {
    throw new Error(`DDConfig: codebook_dim must be a positive integer, got ${c.codebook_dim}`);
  }
  return Object.freeze({ ...g, codebook_dim: c.codebook_dim });
}

/** A preset (GPT-B, GPT-L, …) with overrides, validated. */
export function ddConfig(
  preset: GptPresetName | string | null,
  overrides: Partial<DDConfig> = {},
): DDConfig {
  if (preset !== null && !isGptPreset(preset)) {
    throw new Error(
      `ddConfig: unknown preset '${preset}'; use one of ${Object.keys(GPT_PRESETS).join(', ')}`,
    );
  }
  const size = preset === null ? {} : GPT_PRESETS[preset];
  return validateDDConfig({ ...DD_DEFAULTS, ...size, ...overrides });
}

/** From a JSON object with official ModelArgs keys (a fixture's config.json, checkpoint
 *  metadata); codebook_dim defaults to 8. */
export function ddConfigFromJson(j: Readonly<Record<string, unknown>>): DDConfig {
  const g = gptConfigFromJson({ class_dropout_prob: 0, ...j });
  const cd = j.codebook_dim ?? DD_DEFAULTS.codebook_dim;
  if (typeof cd !== 'number')
    throw new Error(`DDConfig: codebook_dim must be a number, got ${JSON.stringify(cd)}`);
  return validateDDConfig({ ...g, codebook_dim: cd });
}
