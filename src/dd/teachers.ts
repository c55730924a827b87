// FlowTeacher adapters of the two model families: the teacher's own generation loop, with its
// random draw replaced by the flow map (through the samplers' `choose` hooks). The sampling
// settings shape p exactly as in ordinary sampling (CFG, temperature, top-k, top-p in the
// official order); defaults follow the paper's data generation.

import { generate as generateLlamagen } from '../models/llamagen/generate.js';
import type { Transformer } from '../models/llamagen/gpt.js';
import type { VQModel } from '../models/llamagen/vq.js';
import { generate as generateVar } from '../models/var/generate.js';
import type { VAR } from '../models/var/var.js';
import type { VQVAE } from '../models/var/vqvae.js';
import { filteredProbs } from '../sampling/fused.js';
import { Tensor } from '../tensor/tensor.js';
import type { FlowTeacher, TokenPicker } from './teacher.js';

export interface LlamagenDataSettings {
  readonly cfgScale: number;
  readonly cfgInterval: number;
  readonly temperature: number;
  readonly topK: number;
  readonly topP: number;
}

/** DD1 data generation for LlamaGen: cfg 2.0, top-k 8000, temperature 1, no top-p. */
export const LLAMAGEN_DATA_DEFAULTS: LlamagenDataSettings = { cfgScale: 2.0, cfgInterval: -1, temperature: 1, topK: 8000, topP: 1 };

function floatData(t: Tensor, what: string): Float32Array {
  if (!(t.data instanceof Float32Array)) throw new Error(`${what} must be float32`);
  return t.data;
}

export function llamagenFlowTeacher(
  name: string,
  gpt: Transformer,
  vq: VQModel,
  settings: LlamagenDataSettings = LLAMAGEN_DATA_DEFAULTS,
): FlowTeacher {
  const cfg = gpt.config;
  const codebook = floatData(vq.quantize.codebook(), 'the VQ codebook');
  const [V, d] = vq.quantize.codebook().shape as [number, number];
  if (V !== cfg.vocab_size) throw new Error(`datagen: the VQ codebook has ${V} entries but the GPT predicts ${cfg.vocab_size}`);
  return {
    name,
    numClasses: cfg.num_classes,
    seqLen: cfg.block_size,
    vocab: V,
    codeDim: d,
    codebook,
    settings: { ...settings },
    generate(classes: Int32Array, pick: TokenPicker): Int32Array {
      const B = classes.length;
      const out = generateLlamagen(gpt, new Tensor(classes, [B]), {
        ...settings,
        choose: (logits, step) => pick(filteredProbs(logits, B, V, { ...settings, rule: 'llamagen' }), step, 1),
      });
      if (!(out.data instanceof Int32Array)) throw new Error('datagen: LlamaGen returned non-integer tokens');
      return out.data;
    },
  };
}

export interface VarDataSettings {
  readonly cfg: number;
  readonly topK: number;
  readonly topP: number;
}

/** DD1 data generation for VAR: cfg 2.0, top-k 900 (no top-p). */
export const VAR_DATA_DEFAULTS: VarDataSettings = { cfg: 2.0, topK: 900, topP: 0 };

export function varFlowTeacher(name: string, model: VAR, vae: VQVAE, settings: VarDataSettings = VAR_DATA_DEFAULTS): FlowTeacher {
  const q = vae.quantize;
  const { cum, L } = model.sched;
  return {
    name,
    numClasses: model.config.num_classes,
    seqLen: L,
    vocab: q.V,
    codeDim: q.Cv,
    codebook: floatData(q.embedding.weight, 'the VQVAE codebook'),
    settings: { ...settings },
    generate(classes: Int32Array, pick: TokenPicker): Int32Array {
      const B = classes.length;
      const r = generateVar(model, q, {
        labels: classes,
        cfg: settings.cfg,
        topK: settings.topK,
        topP: settings.topP,
        choose: (logits, rows, V, k) => pick(filteredProbs(logits, rows, V, { topK: settings.topK, topP: settings.topP, rule: 'var' }), cum[k] as number, rows / B),
      });
      // r.idx[k] is [B·pn²] row-major per image → tokens [B, L] in scale order.
      const out = new Int32Array(B * L);
      r.idx.forEach((ix, k) => {
        const n = ix.length / B;
        for (let b = 0; b < B; b++) out.set(ix.subarray(b * n, (b + 1) * n), b * L + (cum[k] as number));
      });
      return out;
    },
  };
}
