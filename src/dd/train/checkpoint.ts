// Training checkpoints of a run folder, each written atomically and only then made current:
//   ckpt-SSSSSSSS.safetensors   model.<name> (raw weights), ema.<name> (EMA weights),
//                               optim.state.<i>.{step,exp_avg,exp_avg_sq} (AdamW.stateDict())
//   ckpt-SSSSSSSS.json          { format, step, emaUpdates, position, config, metrics }
//   latest.json                 { step, tensors, state }: written last, so a crash at any point
//                               leaves the previous checkpoint current and intact.
// Older checkpoints beyond `keep` are deleted after latest.json points to the new one.

import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeBytesAtomic } from '../../io/atomic.js';
import { loadSafetensors, saveSafetensors } from '../../io/safetensors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { parseTrainConfig, type TrainConfig } from './config.js';

export const TRAIN_CHECKPOINT_FORMAT = 'ddar-train/1';

export interface CheckpointState {
  readonly format: string;
  /** Optimizer steps completed. */
  readonly step: number;
  readonly emaUpdates: number;
  /** Where the data order stands (derived from step; recorded for people and tools). */
  readonly position: { readonly epoch: number; readonly index: number; readonly seed: number };
  readonly config: TrainConfig;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface CheckpointTensors {
  readonly model: ReadonlyMap<string, Tensor>;
  readonly ema: ReadonlyMap<string, Tensor>;
  readonly optim: ReadonlyMap<string, Tensor>;
}

export interface LoadedCheckpoint extends CheckpointTensors {
  readonly state: CheckpointState;
  readonly path: string;
}

const pad = (s: number) => String(s).padStart(8, '0');
const PREFIXES = ['model.', 'ema.', 'optim.'] as const;

function writeJson(path: string, v: unknown): void {
  writeBytesAtomic(path, new TextEncoder().encode(JSON.stringify(v, null, 1) + '\n'));
}

/** Writes checkpoint `state.step` into dir and makes it current. Returns the tensor file path. */
export function saveCheckpoint(
  dir: string,
  state: CheckpointState,
  t: CheckpointTensors,
  keep: number,
): string {
  const base = `ckpt-${pad(state.step)}`;
  const all = new Map<string, Tensor>();
  for (const [k, v] of t.model) all.set(`model.${k}`, v);
  for (const [k, v] of t.ema) all.set(`ema.${k}`, v);
  for (const [k, v] of t.optim) all.set(`optim.${k}`, v);
  const tensors = join(dir, `${base}.safetensors`);
  saveSafetensors(tensors, all, {
    metadata: { format: TRAIN_CHECKPOINT_FORMAT, step: String(state.step) },
  });
  writeJson(join(dir, `${base}.json`), state);
  writeJson(join(dir, 'latest.json'), {
    step: state.step,
    tensors: `${base}.safetensors`,
    state: `${base}.json`,
  });
  pruneCheckpoints(dir, keep, state.step);
  return tensors;
}

/** Deletes checkpoints other than the `keep` newest (never the current one) and stale temps. */
export function pruneCheckpoints(dir: string, keep: number, current: number): void {
  const steps = readdirSync(dir)
    .map((f) => /^ckpt-(\d{8})\.json$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => b - a);
  for (const s of steps.slice(keep)) {
    if (s === current) continue;
    for (const ext of ['safetensors', 'json'])
      rmSync(join(dir, `ckpt-${pad(s)}.${ext}`), { force: true });
  }
  for (const f of readdirSync(dir))
    if (/\.tmp-\d+-[0-9a-f]+$/.test(f)) rmSync(join(dir, f), { force: true });
}

/** True when dir holds a current checkpoint. */
export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'latest.json'));
}

/** Reads the current checkpoint of dir (the one latest.json names). */
export function loadCheckpoint(dir: string): LoadedCheckpoint {
  const lp = join(dir, 'latest.json');
  if (!existsSync(lp))
    throw new Error(
      `${dir}: no checkpoint (latest.json is missing); HINT: run without --resume to start training`,
    );
  const latest = JSON.parse(readFileSync(lp, 'utf8')) as {
    step?: unknown;
    tensors?: unknown;
    state?: unknown;
  };
  if (typeof latest.tensors !== 'string' || typeof latest.state !== 'string')
    throw new Error(`${lp}: malformed (expected "tensors" and "state" file names)`);
  const sp = join(dir, latest.state);
  const tp = join(dir, latest.tensors);
  for (const p of [sp, tp])
    if (!existsSync(p))
      throw new Error(`${lp} names ${p}, which is missing; the run folder was changed by hand`);
  const raw = JSON.parse(readFileSync(sp, 'utf8')) as CheckpointState;
  if (raw.format !== TRAIN_CHECKPOINT_FORMAT)
    throw new Error(`${sp}: format ${String(raw.format)} is not ${TRAIN_CHECKPOINT_FORMAT}`);
  const state: CheckpointState = { ...raw, config: parseTrainConfig(raw.config, sp) };
  const split = [
    new Map<string, Tensor>(),
    new Map<string, Tensor>(),
    new Map<string, Tensor>(),
  ] as const;
  for (const [k, v] of loadSafetensors(tp)) {
    const i = PREFIXES.findIndex((p) => k.startsWith(p));
    if (i < 0)
      throw new Error(`${tp}: unexpected tensor '${k}' (expected model.*, ema.* or optim.*)`);
    split[i]?.set(k.slice((PREFIXES[i] as string).length), v);
  }
  return { state, path: tp, model: split[0], ema: split[1], optim: split[2] };
}
