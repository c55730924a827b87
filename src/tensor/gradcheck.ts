// Finite-difference gradient checking in float64 (used by the op and layer tests).

import { backward } from './grad.js';
import { noGrad } from './autograd.js';
import { Rng } from './rng.js';
import { Tensor } from './tensor.js';
import { mul } from './ops/elementwise.js';
import { sum } from './ops/reduce.js';

export interface GradCheckResult {
  readonly maxError: number;
  readonly input: number;
  readonly index: number;
  readonly analytic: number;
  readonly numeric: number;
}

/** Random float64 tensor with entries in N(0, 1) (or uniform in [lo, hi) when given). */
export function randn64(rng: Rng, shape: readonly number[], range?: [number, number]): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  let data: Float64Array;
  if (range) {
    const u = rng.uniform(n);
    data = u.map((v) => range[0] + (range[1] - range[0]) * v);
  } else data = rng.normal(n, 'float64') as Float64Array;
  return new Tensor(data, shape);
}

/** Compares autograd gradients of L = Σ f(inputs) ⊙ R (R fixed random) with central finite
 *  differences; returns the worst relative error max|a − n| / max(1, |n|). */
export function gradCheck(f: (xs: Tensor[]) => Tensor, inputs: Tensor[], rng: Rng, eps = 1e-6): GradCheckResult {
  const xs = inputs.map((t) => new Tensor(Float64Array.from(t.data), t.shape).requireGrad());
  const out0 = noGrad(() => f(xs));
  const r = randn64(rng, out0.shape);
  const loss = (ts: Tensor[]) => sum(mul(f(ts), r));
  backward(loss(xs));
  let worst: GradCheckResult = { maxError: 0, input: -1, index: -1, analytic: 0, numeric: 0 };
  xs.forEach((x, ii) => {
    const g = x.grad?.data;
    const d = x.data;
    for (let i = 0; i < d.length; i++) {
      const v = d[i] as number;
      d[i] = v + eps;
      const lp = noGrad(() => loss(xs).item());
      d[i] = v - eps;
      const lm = noGrad(() => loss(xs).item());
      d[i] = v;
      const num = (lp - lm) / (2 * eps);
      const ana = g ? (g[i] as number) : 0;
      const err = Math.abs(ana - num) / Math.max(1, Math.abs(num));
      if (err > worst.maxError || Number.isNaN(err)) worst = { maxError: Number.isNaN(err) ? Infinity : err, input: ii, index: i, analytic: ana, numeric: num };
    }
  });
  return worst;
}
