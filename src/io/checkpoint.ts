// One view over checkpoint files of either format (.safetensors, or .pt/.pth/.bin from
// torch.save): tensor names with their stored dtype and shape, and lazy loading by name.

import type { Tensor } from '../tensor/tensor.js';
import { openSafetensors } from './safetensors.js';
import type { DecodeOptions, StoredDType } from './stored-dtype.js';
import {
  openTorchCheckpoint,
  selectStateDict,
  tensorEntries,
  type StateDictOptions,
} from './torch.js';

export interface CheckpointEntry {
  readonly name: string;
  readonly dtype: StoredDType;
  readonly shape: readonly number[];
}

export interface CheckpointSource {
  readonly path: string;
  readonly format: 'safetensors' | 'torch';
  /** For torch files: the dict key path the state dict was taken from (null: top level). */
  readonly key: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly entries: readonly CheckpointEntry[];
  get(name: string, opts?: DecodeOptions): Tensor;
  close(): void;
}

export function checkpointFormat(path: string): 'safetensors' | 'torch' {
  const p = path.toLowerCase();
  if (p.endsWith('.safetensors')) return 'safetensors';
  if (p.endsWith('.pt') || p.endsWith('.pth') || p.endsWith('.bin') || p.endsWith('.ckpt'))
    return 'torch';
  throw new Error(
    `${path}: unknown checkpoint extension; expected .safetensors, .pt, .pth, .bin or .ckpt`,
  );
}

export function openCheckpoint(path: string, opts: StateDictOptions = {}): CheckpointSource {
  if (checkpointFormat(path) === 'safetensors') {
    if (opts.key !== undefined && opts.key !== '')
      throw new Error(`${path}: --key applies to .pt/.pth files only; safetensors files are flat`);
    const f = openSafetensors(path);
    return {
      path,
      format: 'safetensors',
      key: null,
      metadata: f.metadata,
      entries: f.names().map((name) => ({ name, ...f.info(name) })),
      get: (name, o) => f.get(name, o),
      close: () => undefined,
    };
  }
  const ckpt = openTorchCheckpoint(path);
  try {
    const { dict, key } = selectStateDict(ckpt.root, path, opts);
    const refs = new Map(tensorEntries(dict));
    return {
      path,
      format: 'torch',
      key,
      metadata: {},
      entries: [...refs].map(([name, r]) => ({ name, dtype: r.dtype, shape: r.shape })),
      get: (name, o) => {
        const r = refs.get(name);
        if (r === undefined) throw new Error(`${path}: no tensor named '${name}'`);
        return r.materialize(`${path} tensor '${name}'`, o);
      },
      close: () => ckpt.close(),
    };
  } catch (e) {
    ckpt.close();
    throw e;
  }
}

/** Loads all tensors of a checkpoint of either format. */
export function loadCheckpoint(
  path: string,
  opts: StateDictOptions & DecodeOptions = {},
): Map<string, Tensor> {
  const src = openCheckpoint(path, opts);
  try {
    const out = new Map<string, Tensor>();
    for (const e of src.entries) out.set(e.name, src.get(e.name, opts));
    return out;
  } finally {
    src.close();
  }
}
