// Loading official VAR / VQVAE weights: raw state dicts saved with torch.save (.pth/.pt, read by
// the safe unpickler) or safetensors, copied by official name with a strict report listing every
// missing, unexpected and mis-shaped key at once.

import { loadCheckpoint } from '../../io/checkpoint.js';
import type { LoadReport } from '../../nn/module.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { VarConfig, VqvaeConfig } from './config.js';
import { VAR } from './var.js';
import { VQVAE } from './vqvae.js';

export interface LoadOptions {
  /** Throw on any missing/unexpected/mis-shaped key (default true, as the official loaders). */
  readonly strict?: boolean;
  /** Dict key path inside a .pth holding the state dict (default: auto / top level). */
  readonly key?: string;
}

/** All tensors of a .pth/.pt or .safetensors state dict. */
export function readStateDict(path: string, key?: string): Map<string, Tensor> {
  return loadCheckpoint(path, key === undefined ? {} : { key });
}

function load<M extends VAR | VQVAE>(
  model: M,
  path: string,
  what: string,
  opts: LoadOptions,
): { model: M; report: LoadReport } {
  const sd = readStateDict(path, opts.key);
  try {
    const report = model.loadStateDict(sd, { strict: opts.strict ?? true });
    return { model, report };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${path}: cannot load as ${what}:\n${msg}`);
  }
}

/** A VAR built from cfg with the weights of `path` (e.g. var_d16.pth with varPreset(16)). */
export function loadVar(
  path: string,
  cfg: VarConfig,
  opts: LoadOptions = {},
): { model: VAR; report: LoadReport } {
  return load(new VAR(cfg), path, `VAR (depth ${cfg.depth}, width ${cfg.embed_dim})`, opts);
}

/** A VQVAE built from cfg with the weights of `path` (e.g. vae_ch160v4096z32.pth). */
export function loadVqvae(
  path: string,
  cfg: VqvaeConfig,
  opts: LoadOptions = {},
): { model: VQVAE; report: LoadReport } {
  return load(new VQVAE(cfg), path, `VQVAE (ch ${cfg.ch}, V ${cfg.vocab_size})`, opts);
}

/** The depth of a VAR state dict (number of `blocks.N.` prefixes), or null when it has none. */
export function varDepthOf(names: Iterable<string>): number | null {
  let depth = 0;
  for (const n of names) {
    const m = /^blocks\.(\d+)\./.exec(n);
    if (m) depth = Math.max(depth, Number(m[1]) + 1);
  }
  return depth > 0 ? depth : null;
}
