// Small random-weight student, teacher and VQVAE for the tests of this folder (and the
// end-to-end test): the size of the var_dd fixture (depth 2, width 64, 4 heads, 10 classes,
// patch_nums (1, 2, 3, 4), V 64, Cv 8) unless overridden.

import * as T from '../../../tensor/index.js';
import { varConfigFromJson, vqvaeConfigFromJson } from '../../../models/var/config.js';
import { randomInit_ } from '../../../nn/init.js';
import { VAR } from '../../../models/var/var.js';
import { VQVAE } from '../../../models/var/vqvae.js';
import { varDDConfigFromJson, type VarDDConfig } from './config.js';
import { VarDD } from './student.js';

export const SMALL_JSON = {
  depth: 2,
  embed_dim: 64,
  num_heads: 4,
  num_classes: 10,
  patch_nums: [1, 2, 3, 4],
  vocab_size: 64,
  Cvae: 8,
} as const;

export function smallConfig(over: Readonly<Record<string, unknown>> = {}): VarDDConfig {
  return varDDConfigFromJson({ ...SMALL_JSON, ...over });
}

export function smallStudent(seed = 1, over: Readonly<Record<string, unknown>> = {}): VarDD {
  return randomInit_(new VarDD(smallConfig(over)), new T.Rng(seed));
}

export function smallTeacher(seed = 3, over: Readonly<Record<string, unknown>> = {}): VAR {
  return randomInit_(new VAR(varConfigFromJson({ ...SMALL_JSON, ...over })), new T.Rng(seed));
}

export function smallVae(seed = 2, patchNums: readonly number[] = SMALL_JSON.patch_nums): VQVAE {
  return randomInit_(
    new VQVAE(
      vqvaeConfigFromJson({
        vocab_size: SMALL_JSON.vocab_size,
        z_channels: SMALL_JSON.Cvae,
        ch: 32,
        encoder_ch_mult: [1, 1],
        decoder_ch_mult: [2, 1],
        num_res_blocks: 1,
        v_patch_nums: [...patchNums],
      }),
    ),
    new T.Rng(seed),
  );
}
