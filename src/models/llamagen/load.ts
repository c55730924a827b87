// Loading official LlamaGen GPT and VQ checkpoints (.pt/.pth from torch.save, or safetensors)
// into the models, strictly: every missing, unexpected and mis-shaped key is reported at once.
// The torch files wrap the state dict as {"model": …} (sample_c2i.py also accepts "module" and
// "state_dict", FSDP checkpoints are raw dicts). A stray `freqs_cis` entry is dropped (the
// RoPE table is recomputed); `quantize.codebook_used` (a training-time usage counter) is
// accepted and ignored when the model was built without it.

import { checkpointFormat, loadCheckpoint } from '../../io/checkpoint.js';
import { PyDict } from '../../io/pickle.js';
import { openTorchCheckpoint } from '../../io/torch.js';
import type { LoadReport } from '../../nn/module.js';
import type { Tensor } from '../../tensor/index.js';
import { Transformer } from './gpt.js';
import { VQModel } from './vq.js';
import { VQ_16, gptConfig, isGptPreset, type GptConfig, type VqConfig } from './config.js';

export interface ReadOpts {
  /** Dict key path inside a .pt file (e.g. 'model', 'ema'); default: the official choice. */
  readonly key?: string;
}

/** The official key order of the LlamaGen samplers for the teacher and the VQ. */
const TEACHER_KEYS = ['model', 'module', 'state_dict'] as const;

/** Reads a state dict from .pt/.pth/.bin (choosing the official sub-dict) or .safetensors. */
export function readStateDict(path: string, opts: ReadOpts = {}): Map<string, Tensor> {
  if (checkpointFormat(path) === 'safetensors' || (opts.key !== undefined && opts.key !== '')) {
    return loadCheckpoint(path, opts.key !== undefined && opts.key !== '' ? { key: opts.key } : {});
  }
  const ckpt = openTorchCheckpoint(path);
  let key: string | undefined;
  try {
    const root = ckpt.root;
    if (root instanceof PyDict) key = TEACHER_KEYS.find((k) => root.map.get(k) instanceof PyDict);
  } finally {
    ckpt.close();
  }
  return loadCheckpoint(path, key === undefined ? {} : { key });
}

/** Loads GPT weights strictly (after dropping `freqs_cis`). Throws listing every problem. */
export function loadGptWeights(model: Transformer, sd: ReadonlyMap<string, Tensor>): LoadReport {
  const m = new Map(sd);
  m.delete('freqs_cis');
  return model.loadStateDict(m, { strict: true });
}

/** Loads VQ weights strictly; `quantize.codebook_used` is ignored when the model has no such buffer. */
export function loadVqWeights(model: VQModel, sd: ReadonlyMap<string, Tensor>): LoadReport {
  const m = new Map(sd);
  if (!model.stateDict().has('quantize.codebook_used')) m.delete('quantize.codebook_used');
  return model.loadStateDict(m, { strict: true });
}

/** A GPT built from a preset (or a full config) with the weights of `path`. */
export function loadGpt(
  path: string,
  config: GptConfig | string,
  opts: ReadOpts = {},
): { model: Transformer; report: LoadReport } {
  let c: GptConfig;
  if (typeof config === 'string') {
    if (!isGptPreset(config)) {
      throw new Error(
        `loadGpt: unknown preset '${config}'; use GPT-B, GPT-L, GPT-XL, GPT-XXL, GPT-XXXL, GPT-1B, GPT-3B or GPT-7B`,
      );
    }
    c = gptConfig(config);
  } else c = config;
  const model = new Transformer(c);
  try {
    return { model, report: loadGptWeights(model, readStateDict(path, opts)) };
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** A VQ model built from `config` (default VQ-16) with the weights of `path`. */
export function loadVq(
  path: string,
  config: VqConfig = VQ_16,
  opts: ReadOpts = {},
): { model: VQModel; report: LoadReport } {
  const model = new VQModel(config);
  try {
    return { model, report: loadVqWeights(model, readStateDict(path, opts)) };
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
