// Loading VAR DD student checkpoints: the released `VAR-DD/var-d{16,20,24}.pth` wrap the state
// dict as {"trainer": {"ema_parameters": sd, "var_wo_ddp": sd}} (sample.py loads the EMA one by
// default, `--ema` true), loaded with strict=False. Flat .pt/.pth and .safetensors state dicts
// (e.g. from `ddar convert`) load too. Buffers (lvl_1L, attn_bias_for_masking, zero_k_bias) are
// rebuilt from the configuration and may be absent from a file; every other missing, unexpected
// or mis-shaped key is reported at once (and is an error unless strict is false).

import { checkpointFormat, loadCheckpoint } from '../../../io/checkpoint.js';
import { PyDict } from '../../../io/pickle.js';
import { openTorchCheckpoint } from '../../../io/torch.js';
import { describeLoadReport, type LoadReport } from '../../../nn/module.js';
import type { Tensor } from '../../../tensor/tensor.js';
import type { VarDDConfig } from './config.js';
import { VarDD } from './student.js';

export interface VarDDLoadOptions {
  /** Use `trainer.ema_parameters` (default, as sample.py) or `trainer.var_wo_ddp`. */
  readonly ema?: boolean;
  /** Explicit dict key path inside a .pt/.pth (overrides `ema`). */
  readonly key?: string;
  /** Throw on missing/unexpected/mis-shaped keys other than the rebuilt buffers (default true;
   *  the official loader is non-strict and only prints them). */
  readonly strict?: boolean;
}

export interface VarDDLoadReport extends LoadReport {
  /** Where the state dict was taken from (e.g. 'trainer.ema_parameters'; null: top level). */
  readonly key: string | null;
  /** Buffers absent from the file (rebuilt from the configuration; harmless). */
  readonly rebuiltBuffers: string[];
  /** Buffers present in the file whose values differed from the rule (overwritten by it). */
  readonly buffersDiffered: string[];
}

/** Buffer names of the student (constructed, never needed from a file). */
function isBuffer(name: string): boolean {
  return (
    name === 'lvl_1L' || name === 'attn_bias_for_masking' || name.endsWith('.attn.zero_k_bias')
  );
}

/** The dict key holding the state dict of a torch file: the `trainer` wrapping when present. */
function trainerKey(path: string, ema: boolean): string | undefined {
  const ckpt = openTorchCheckpoint(path);
  try {
    const root = ckpt.root;
    if (!(root instanceof PyDict)) return undefined;
    const trainer = root.map.get('trainer');
    if (!(trainer instanceof PyDict)) return undefined;
    const want = ema ? 'ema_parameters' : 'var_wo_ddp';
    if (!trainer.map.has(want)) {
      const keys = [...trainer.map.keys()].filter((k) => typeof k === 'string').join(', ');
      throw new Error(
        `${path}: 'trainer' has no '${want}' (keys: ${keys}); pass ema=${!ema} (--no-ema / --ema) or an explicit key`,
      );
    }
    return `trainer.${want}`;
  } finally {
    ckpt.close();
  }
}

/** The student's state dict in a file, and the key it came from. */
export function readVarDDStateDict(
  path: string,
  opts: Pick<VarDDLoadOptions, 'ema' | 'key'> = {},
): { sd: Map<string, Tensor>; key: string | null } {
  if (checkpointFormat(path) === 'safetensors') return { sd: loadCheckpoint(path), key: null };
  const key = opts.key ?? trainerKey(path, opts.ema ?? true);
  return { sd: loadCheckpoint(path, key === undefined ? {} : { key }), key: key ?? null };
}

/** Loads a state dict into a student (buffers rebuilt afterwards). */
export function loadVarDDStateDict(
  model: VarDD,
  sd: ReadonlyMap<string, Tensor>,
  what: string,
  opts: Pick<VarDDLoadOptions, 'strict'> & { key?: string | null } = {},
): VarDDLoadReport {
  const r = model.loadStateDict(sd, { strict: false });
  const rebuiltBuffers = r.missing.filter(isBuffer);
  const report: VarDDLoadReport = {
    missing: r.missing.filter((n) => !isBuffer(n)),
    unexpected: r.unexpected,
    mismatched: r.mismatched,
    key: opts.key ?? null,
    rebuiltBuffers,
    buffersDiffered: model.restoreBuffers().filter((n) => !rebuiltBuffers.includes(n)),
  };
  const bad = report.missing.length + report.unexpected.length + report.mismatched.length;
  if ((opts.strict ?? true) && bad > 0) {
    throw new Error(
      `${what}: ${describeLoadReport('VarDD', report)}\nHINT: check --depth and that this is a VAR-DD checkpoint (not the teacher: the student has ${model.L + 1} position rows)`,
    );
  }
  return report;
}

/** A student built from cfg with the weights of `path` (e.g. var-d16.pth with varDDPreset(16)). */
export function loadVarDD(
  path: string,
  cfg: VarDDConfig,
  opts: VarDDLoadOptions = {},
): { model: VarDD; report: VarDDLoadReport } {
  const { sd, key } = readVarDDStateDict(path, opts);
  const model = new VarDD(cfg);
  const report = loadVarDDStateDict(model, sd, path, { strict: opts.strict ?? true, key });
  return { model, report };
}

/** One line per problem of a report (empty when the file matched exactly). */
export function describeVarDDReport(r: VarDDLoadReport): string[] {
  const lines: string[] = [];
  if (r.missing.length > 0) lines.push(`missing keys: ${r.missing.join(', ')}`);
  if (r.unexpected.length > 0) lines.push(`unexpected keys: ${r.unexpected.join(', ')}`);
  for (const m of r.mismatched)
    lines.push(
      `mis-shaped: ${m.name} expected [${m.expected.join(', ')}] found [${m.found.join(', ')}]`,
    );
  if (r.rebuiltBuffers.length > 0)
    lines.push(`buffers rebuilt (absent from the file): ${r.rebuiltBuffers.join(', ')}`);
  if (r.buffersDiffered.length > 0)
    lines.push(`buffers differing from the rule (replaced): ${r.buffersDiffered.join(', ')}`);
  return lines;
}
