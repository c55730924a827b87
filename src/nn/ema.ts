// Exponential moving average of a module's weights (the "ema" copy of a training checkpoint):
//   shadow ← d·shadow + (1 − d)·param,   d = decay, or min(decay, (1 + n)/(10 + n)) with warm-up
// where n counts previous updates (the TF ExponentialMovingAverage num_updates rule). Float
// parameters and persistent buffers are averaged (in float64, rounded once); integer buffers are
// copied. The shadow's names are the module's state-dict names, so stateDict() loads straight
// into the model (e.g. the `ema` sub-dict of a checkpoint).

import { fmt, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface EMAOpts {
  /** Use min(decay, (1 + n)/(10 + n)) so early averages are not dominated by the init. */
  readonly warmup?: boolean;
}

export class EMA {
  readonly decay: number;
  readonly warmup: boolean;
  /** Number of update() calls so far (save it with the checkpoint to resume the warm-up). */
  numUpdates = 0;
  private readonly shadow: Map<string, Tensor>;

  constructor(module: Module, decay: number, opts: EMAOpts = {}) {
    if (!(decay >= 0 && decay <= 1)) throw new Error(`EMA: decay must be in [0, 1], got ${decay}`);
    this.decay = decay;
    this.warmup = opts.warmup ?? false;
    this.shadow = new Map(
      [...module.stateDict()].map(([name, t]) => [name, new Tensor(t.data.slice(), t.shape)]),
    );
  }

  /** The decay the next update() uses. */
  currentDecay(): number {
    const n = this.numUpdates;
    return this.warmup ? Math.min(this.decay, (1 + n) / (10 + n)) : this.decay;
  }

  /** Moves the shadow towards the module's current weights. */
  update(module: Module): void {
    const d = this.currentDecay();
    const own = this.matched('update', module);
    for (const [name, s] of this.shadow) {
      const src = (own.get(name) as Tensor).data;
      const sd = s.data;
      if (sd instanceof Int32Array) sd.set(src);
      else
        for (let i = 0; i < sd.length; i++)
          sd[i] = d * (sd[i] as number) + (1 - d) * (src[i] as number);
    }
    this.numUpdates++;
  }

  /** Writes the averaged weights into module (e.g. before evaluation or saving). */
  copyTo(module: Module): void {
    const own = this.matched('copyTo', module);
    for (const [name, s] of this.shadow) (own.get(name) as Tensor).data.set(s.data);
  }

  /** Copies of the averaged tensors by the module's state-dict names. */
  stateDict(): Map<string, Tensor> {
    return new Map(
      [...this.shadow].map(([name, t]) => [name, new Tensor(t.data.slice(), t.shape)]),
    );
  }

  /** Restores the shadow (and the update count, when given); throws listing every missing,
   *  unexpected or mis-shaped key without changing anything. */
  loadStateDict(sd: ReadonlyMap<string, Tensor>, numUpdates?: number): void {
    const problems = compare(this.shadow, sd);
    if (problems.length > 0) throw new Error(`EMA.loadStateDict: ${problems.join('; ')}`);
    for (const [name, s] of this.shadow) s.data.set((sd.get(name) as Tensor).data);
    if (numUpdates !== undefined) this.numUpdates = numUpdates;
  }

  private matched(op: string, module: Module): Map<string, Tensor> {
    const own = module.stateDict();
    const problems = compare(this.shadow, own);
    if (problems.length > 0)
      throw new Error(`EMA.${op}: the module does not match the EMA: ${problems.join('; ')}`);
    return own;
  }
}

function compare(
  expected: ReadonlyMap<string, Tensor>,
  found: ReadonlyMap<string, Tensor>,
): string[] {
  const problems: string[] = [];
  const missing = [...expected.keys()].filter((k) => !found.has(k));
  const unexpected = [...found.keys()].filter((k) => !expected.has(k));
  const misShaped = [...expected]
    .filter(([k, t]) => found.has(k) && !sameShape((found.get(k) as Tensor).shape, t.shape))
    .map(([k, t]) => `${k} expected ${fmt(t.shape)} found ${fmt((found.get(k) as Tensor).shape)}`);
  if (missing.length > 0) problems.push(`missing keys: ${missing.join(', ')}`);
  if (unexpected.length > 0) problems.push(`unexpected keys: ${unexpected.join(', ')}`);
  if (misShaped.length > 0) problems.push(`mis-shaped keys: ${misShaped.join(', ')}`);
  return problems;
}
