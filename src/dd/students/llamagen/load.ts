// Loading official LlamaGen DD checkpoints (llamagen-B.pt / llamagen-L.pt from Hugging Face
// microsoft/distilled_decoding) and other wrappings, .pt/.pth or safetensors.
// The official samplers run with --ema and read checkpoint["ema"]; without --ema they take
// "model", "module" or "state_dict", or the raw dict (FSDP). We pick in that order unless a
// key is given. The official load is non-strict (missing/unexpected keys only printed); here
// every student key must be present with its shape (else one error lists every problem), and
// extra keys are reported and ignored. A stray `freqs_cis` is dropped (recomputed).

import { checkpointFormat, loadCheckpoint } from '../../../io/checkpoint.js';
import { PyDict } from '../../../io/pickle.js';
import { openTorchCheckpoint } from '../../../io/torch.js';
import { describeLoadReport, type LoadReport } from '../../../nn/module.js';
import type { Tensor } from '../../../tensor/index.js';
import { ddConfig, type DDConfig } from './config.js';
import { DDTransformer } from './student.js';

/** Sub-dicts tried in order when no key is given. */
export const DD_CHECKPOINT_KEYS = ['ema', 'model', 'module', 'state_dict'] as const;

export interface DDReadOpts {
  /** Dict key path inside a .pt file ('ema', 'model', 'trainer.ema', …). */
  readonly key?: string;
}

/** The state dict of a DD checkpoint and where it came from (null key: top level / safetensors). */
export function readDDStateDict(
  path: string,
  opts: DDReadOpts = {},
): { sd: Map<string, Tensor>; key: string | null } {
  const given = opts.key !== undefined && opts.key !== '' ? opts.key : undefined;
  if (checkpointFormat(path) === 'safetensors' || given !== undefined) {
    return {
      sd: loadCheckpoint(path, given !== undefined ? { key: given } : {}),
      key: given ?? null,
    };
  }
  const ckpt = openTorchCheckpoint(path);
  let key: string | undefined;
  try {
    const root = ckpt.root;
    if (root instanceof PyDict)
      key = DD_CHECKPOINT_KEYS.find((k) => root.map.get(k) instanceof PyDict);
  } finally {
    ckpt.close();
  }
  return { sd: loadCheckpoint(path, key === undefined ? {} : { key }), key: key ?? null };
}

/** Loads weights: throws listing every missing and mis-shaped key; unexpected keys (other than
 *  `freqs_cis`) come back in the report and are ignored, as the official non-strict load does. */
export function loadDDWeights(model: DDTransformer, sd: ReadonlyMap<string, Tensor>): LoadReport {
  const m = new Map(sd);
  m.delete('freqs_cis');
  const report = model.loadStateDict(m, { strict: false });
  if (report.missing.length > 0 || report.mismatched.length > 0) {
    throw new Error(
      describeLoadReport('DDTransformer', { ...report, unexpected: [] }) +
        (report.unexpected.length > 0
          ? `\n  (also ${report.unexpected.length} unexpected keys: ${report.unexpected.slice(0, 10).join(', ')}${report.unexpected.length > 10 ? ', …' : ''}; a teacher checkpoint given as the student?)`
          : ''),
    );
  }
  return report;
}

export interface LoadedDD {
  readonly model: DDTransformer;
  readonly report: LoadReport;
  /** The sub-dict the weights came from ('ema' for the released checkpoints). */
  readonly key: string | null;
}

/** Builds a student from a preset name (GPT-B, GPT-L) or a full config and loads a checkpoint. */
export function loadDD(path: string, config: DDConfig | string, opts: DDReadOpts = {}): LoadedDD {
  const c = typeof config === 'string' ? ddConfig(config) : config;
  const model = new DDTransformer(c);
  try {
    const { sd, key } = readDDStateDict(path, opts);
    return { model, report: loadDDWeights(model, sd), key };
  } catch (e) {
    throw new Error(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
