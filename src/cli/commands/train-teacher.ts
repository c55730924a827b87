// Loading the teacher named by a train config (checkpoint files or a fixture folder) and
// building the matching DD student for `ddar train` and `ddar baseline`.

import { dirname, join, resolve } from 'node:path';
import type { Transformer } from '../../models/llamagen/gpt.js';
import type { VQModel } from '../../models/llamagen/vq.js';
import type { VAR } from '../../models/var/var.js';
import type { VQVAE } from '../../models/var/vqvae.js';
import type { Family, TeacherSpec } from '../../dd/train/config.js';
import { UsageError } from '../args.js';
import { readJsonObject } from '../../io/json.js';

/** The loaded models and the weight files they came from (hashed into dataset manifests). */
export type LoadedTeacher = (
  | { readonly family: 'llamagen'; readonly gpt: Transformer; readonly vq: VQModel }
  | { readonly family: 'var'; readonly model: VAR; readonly vae: VQVAE }
) & { readonly files: readonly string[] };

const json = (dir: string) => readJsonObject(join(dir, 'config.json'));

export async function loadTeacher(
  family: Family,
  spec: TeacherSpec | null,
): Promise<LoadedTeacher> {
  if (!spec)
    throw new UsageError(
      `the config needs "teacher": {"gpt", "vq", "preset"} (llamagen), {"var", "vae", "depth"} (var) or {"fixture": DIR}`,
    );
  if (family === 'llamagen') {
    const cfgMod = await import('../../models/llamagen/config.js');
    const gptMod = await import('../../models/llamagen/gpt.js');
    const load = await import('../../models/llamagen/load.js');
    const { VQModel } = await import('../../models/llamagen/vq.js');
    if ('fixture' in spec) {
      const g = resolve(spec.fixture);
      const v = join(dirname(g), 'llamagen_vq');
      const gpt = new gptMod.Transformer(cfgMod.gptConfigFromJson(json(g)));
      load.loadGptWeights(gpt, load.readStateDict(join(g, 'weights.safetensors')));
      const vq = new VQModel(cfgMod.vqConfigFromJson(json(v)));
      load.loadVqWeights(vq, load.readStateDict(join(v, 'weights.safetensors')));
      return {
        family,
        gpt,
        vq,
        files: [join(g, 'weights.safetensors'), join(v, 'weights.safetensors')],
      };
    }
    if (!('gpt' in spec))
      throw new UsageError(
        'family llamagen needs "teacher": {"gpt": FILE, "vq": FILE, "preset": "GPT-B"} or {"fixture": DIR}',
      );
    if (!cfgMod.isGptPreset(spec.preset))
      throw new UsageError(
        `teacher preset ${spec.preset}: expected GPT-B, GPT-L, GPT-XL, GPT-XXL or GPT-XXXL`,
      );
    return {
      family,
      gpt: load.loadGpt(spec.gpt, spec.preset).model,
      vq: load.loadVq(spec.vq).model,
      files: [spec.gpt, spec.vq],
    };
  }
  const cfgMod = await import('../../models/var/config.js');
  const load = await import('../../models/var/load.js');
  if ('fixture' in spec) {
    const t = resolve(spec.fixture);
    const cfg = json(t);
    const vdir = resolve(t, typeof cfg['vae'] === 'string' ? cfg['vae'] : '../var_vqvae');
    const { model } = load.loadVar(join(t, 'weights.safetensors'), cfgMod.varConfigFromJson(cfg));
    const { model: vae } = load.loadVqvae(
      join(vdir, 'weights.safetensors'),
      cfgMod.vqvaeConfigFromJson(json(vdir)),
    );
    return {
      family,
      model,
      vae,
      files: [join(t, 'weights.safetensors'), join(vdir, 'weights.safetensors')],
    };
  }
  if (!('var' in spec))
    throw new UsageError(
      'family var needs "teacher": {"var": FILE, "vae": FILE, "depth": 16} or {"fixture": DIR}',
    );
  const { model } = load.loadVar(spec.var, cfgMod.varPreset(spec.depth));
  const { model: vae } = load.loadVqvae(spec.vae, cfgMod.VQVAE_CH160V4096Z32);
  return { family, model, vae, files: [spec.var, spec.vae] };
}
