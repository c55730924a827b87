// AdamW (Loshchilov & Hutter) exactly as torch.optim.AdamW (amsgrad off): per parameter,
//   t ← t + 1
//   p ← p − lr·wd·p                                  (decoupled weight decay, applied first)
//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1ᵗ)) · m / (√v / √(1 − β2ᵗ) + eps)
// State m, v has the parameter's dtype; each element is updated in float64 and rounded once.
// Parameters without a gradient are skipped and keep their step count (as torch).
// Parameter groups carry their own lr / weight decay / betas / eps (e.g. no decay for norms and
// biases: paramGroupsByDecay). The lr is set per step by the training loop (setLr).

import { fmt, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface ParamGroup {
  readonly params: readonly Tensor[];
  /** Names of params (same order), used in error messages. */
  readonly names?: readonly string[];
  readonly lr?: number;
  readonly weightDecay?: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
}

export interface AdamWOpts {
  readonly lr: number;
  readonly betas?: readonly [number, number];
  readonly eps?: number;
  readonly weightDecay?: number;
}

/** A group as the optimizer holds it: every setting resolved; lr and weightDecay mutable. */
export interface AdamWGroup {
  readonly params: readonly Tensor[];
  readonly names: readonly string[];
  lr: number;
  weightDecay: number;
  betas: readonly [number, number];
  eps: number;
}

type FloatArray = Float32Array | Float64Array;

interface ParamState {
  step: number;
  m: FloatArray;
  v: FloatArray;
}

/** nanoGPT's split: weight decay for tensors of rank ≥ 2 (matmul and embedding weights), none
 *  for rank < 2 (biases, norm weights, scalars). */
export function paramGroupsByDecay(module: Module, weightDecay: number): ParamGroup[] {
  const decay: [string, Tensor][] = [];
  const noDecay: [string, Tensor][] = [];
  for (const nt of module.namedParameters()) (nt[1].rank >= 2 ? decay : noDecay).push(nt);
  return [
    { params: decay.map(([, t]) => t), names: decay.map(([n]) => n), weightDecay },
    { params: noDecay.map(([, t]) => t), names: noDecay.map(([n]) => n), weightDecay: 0 },
  ];
}

export class AdamW {
  readonly groups: AdamWGroup[];
  /** Per parameter (flat index over the groups), null until its first step. */
  private readonly state: (ParamState | null)[];

  constructor(groups: readonly ParamGroup[] | readonly Tensor[], opts: AdamWOpts) {
    const list: readonly ParamGroup[] = groups.every((g): g is Tensor => g instanceof Tensor)
      ? [{ params: groups }]
      : groups.filter((g): g is ParamGroup => !(g instanceof Tensor));
    const seen = new Set<Tensor>();
    this.groups = list.map((g, gi) => {
      const names = g.params.map((_, i) => g.names?.[i] ?? `group ${gi} param ${i}`);
      g.params.forEach((p, i) => {
        if (p.dtype === 'int32')
          throw new Error(
            `AdamW: ${names[i]} is int32 ${fmt(p.shape)}; only float tensors can be optimized`,
          );
        if (seen.has(p))
          throw new Error(
            `AdamW: ${names[i]} appears more than once in the parameter groups (tied weights must be passed once)`,
          );
        seen.add(p);
      });
      const group: AdamWGroup = {
        params: [...g.params],
        names,
        lr: g.lr ?? opts.lr,
        weightDecay: g.weightDecay ?? opts.weightDecay ?? 0.01,
        betas: g.betas ?? opts.betas ?? [0.9, 0.999],
        eps: g.eps ?? opts.eps ?? 1e-8,
      };
      const [b1, b2] = group.betas;
      if (
        !(group.lr >= 0) ||
        !(group.eps >= 0) ||
        !(group.weightDecay >= 0) ||
        !(b1 >= 0 && b1 < 1) ||
        !(b2 >= 0 && b2 < 1)
      ) {
        throw new Error(
          `AdamW: invalid settings in group ${gi}: lr ${group.lr}, betas [${b1}, ${b2}], eps ${group.eps}, weightDecay ${group.weightDecay}`,
        );
      }
      return group;
    });
    this.state = new Array<ParamState | null>(seen.size).fill(null);
  }

  /** Every parameter, in state-dict index order. */
  get params(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /** Sets the learning rate of every group (call before step() with the schedule's value). */
  setLr(lr: number): void {
    for (const g of this.groups) g.lr = lr;
  }

  /** Gradients to null (torch's set_to_none). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  step(): void {
    let idx = 0;
    for (const group of this.groups) {
      const { lr, weightDecay: wd, eps } = group;
      const [b1, b2] = group.betas;
      for (let pi = 0; pi < group.params.length; pi++, idx++) {
        const p = group.params[pi] as Tensor;
        const g = p.grad;
        if (!g) continue;
        if (g.size !== p.size) {
          throw new Error(
            `AdamW: gradient ${fmt(g.shape)} does not match ${group.names[pi]} ${fmt(p.shape)}`,
          );
        }
        const pd = p.data as FloatArray;
        const gd = g.data;
        let st = this.state[idx];
        if (!st) {
          st = { step: 0, m: newLike(pd), v: newLike(pd) };
          this.state[idx] = st;
        }
        const t = ++st.step;
        const stepSize = lr / (1 - Math.pow(b1, t));
        const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
        const decay = 1 - lr * wd;
        const { m, v } = st;
        for (let i = 0; i < pd.length; i++) {
          const gi = gd[i] as number;
          const mi = b1 * (m[i] as number) + (1 - b1) * gi;
          const vi = b2 * (v[i] as number) + (1 - b2) * gi * gi;
          m[i] = mi;
          v[i] = vi;
          // torch keeps m, v in the parameter's dtype: use the stored (rounded) values.
          pd[i] =
            (pd[i] as number) * decay -
            (stepSize * (m[i] as number)) / (Math.sqrt(v[i] as number) / bc2Sqrt + eps);
        }
      }
    }
  }

  /** Optimizer state by parameter index: `state.<i>.step` (int32 scalar), `state.<i>.exp_avg`,
   *  `state.<i>.exp_avg_sq` (copies, shaped like the parameter) for every parameter stepped at
   *  least once. Hyperparameters are not included: the lr comes from the schedule. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const params = this.params;
    this.state.forEach((st, i) => {
      if (!st) return;
      const shape = (params[i] as Tensor).shape;
      out.set(`state.${i}.step`, new Tensor(Int32Array.of(st.step), []));
      out.set(`state.${i}.exp_avg`, new Tensor(st.m.slice(), shape));
      out.set(`state.${i}.exp_avg_sq`, new Tensor(st.v.slice(), shape));
    });
    return out;
  }

  /** Restores stateDict() output exactly (bit for bit). Throws, listing every problem and
   *  changing nothing, when a key is unknown, incomplete or mis-shaped. */
  loadStateDict(sd: ReadonlyMap<string, Tensor>): void {
    const params = this.params;
    const problems: string[] = [];
    const found = new Map<number, { step?: Tensor; m?: Tensor; v?: Tensor }>();
    for (const [key, t] of sd) {
      const match = /^state\.(\d+)\.(step|exp_avg|exp_avg_sq)$/.exec(key);
      const i = match ? Number(match[1]) : -1;
      const p = params[i];
      if (!match || !p) {
        problems.push(
          `unexpected key ${key}${match ? ` (the optimizer has ${params.length} parameters)` : ''}`,
        );
        continue;
      }
      const entry = found.get(i) ?? {};
      found.set(i, entry);
      if (match[2] === 'step') {
        if (t.size !== 1 || !Number.isInteger(t.item()) || t.item() < 0)
          problems.push(`${key} must be one non-negative integer, got ${t.dtype} ${fmt(t.shape)}`);
        entry.step = t;
      } else {
        if (!sameShape(t.shape, p.shape) || t.dtype === 'int32')
          problems.push(
            `${key} expected ${p.dtype} ${fmt(p.shape)} found ${t.dtype} ${fmt(t.shape)}`,
          );
        if (match[2] === 'exp_avg') entry.m = t;
        else entry.v = t;
      }
    }
    for (const [i, e] of found) {
      if (!e.step || !e.m || !e.v)
        problems.push(`state.${i} is incomplete (needs step, exp_avg and exp_avg_sq)`);
    }
    if (problems.length > 0) {
      throw new Error(
        `AdamW.loadStateDict: the optimizer state does not match the parameters:\n  ${problems.join('\n  ')}\nHINT: the state must come from an optimizer built over the same parameters in the same order.`,
      );
    }
    this.state.fill(null);
    for (const [i, e] of found) {
      const pd = (params[i] as Tensor).data as FloatArray;
      const m = newLike(pd);
      const v = newLike(pd);
      m.set((e.m as Tensor).data);
      v.set((e.v as Tensor).data);
      this.state[i] = { step: (e.step as Tensor).item(), m, v };
    }
  }
}

function newLike(d: FloatArray): FloatArray {
  return d instanceof Float64Array ? new Float64Array(d.length) : new Float32Array(d.length);
}
