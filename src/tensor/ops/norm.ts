// Normalisation ops with fused forward kernels and backward rules built from other ops:
// RMSNorm and LayerNorm over the last axis, GroupNorm over [N, C, ...].

import { record } from '../autograd.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { K, alloc, fdata, floatDType } from './util.js';
import { mul, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { reshape } from './layout.js';

function checkAffine(op: string, p: Tensor | null, n: number): void {
  if (p && (p.rank !== 1 || p.shape[0] !== n)) throw new Error(`${op}: parameter must have shape [${n}], got ${fmt(p.shape)}`);
}

/** Sum of g over every axis but the last (the gradient of a per-feature parameter). */
function sumRows(g: Tensor, n: number): Tensor {
  return sum(reshape(g, [-1, n]), 0);
}

/** x · rsqrt(mean(x², last axis) + eps) · weight. */
export function rmsNorm(x: Tensor, weight: Tensor | null, eps: number): Tensor {
  const n = x.shape[x.rank - 1] as number;
  checkAffine('rmsNorm', weight, n);
  const rows = x.size / n;
  const dt = floatDType('rmsNorm', x);
  const [y, yd] = alloc(x.shape, dt);
  const [rstd, rd] = alloc([...x.shape.slice(0, -1), 1], dt);
  K().rmsNorm(fdata('rmsNorm', x), weight ? fdata('rmsNorm', weight) : null, eps, yd, rd, rows, n);
  const inputs = weight ? [x, weight] : [x];
  return record(y, 'rmsNorm', inputs, (g) => {
    const xhat = mul(x, rstd);
    const gw = weight ? mul(g, weight) : g;
    // dx = rstd · (gw − xhat · mean(gw ⊙ xhat))
    const dx = x.requiresGrad ? mul(rstd, sub(gw, mul(xhat, mean(mul(gw, xhat), -1, { keepDim: true })))) : null;
    const dw = weight?.requiresGrad ? sumRows(mul(g, xhat), n) : null;
    return [dx, dw];
  });
}

/** (x − mean) / sqrt(var + eps) over the last axis, then · weight + bias (each optional). */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  const n = x.shape[x.rank - 1] as number;
  checkAffine('layerNorm', weight, n);
  checkAffine('layerNorm', bias, n);
  const rows = x.size / n;
  const dt = floatDType('layerNorm', x);
  const [y, yd] = alloc(x.shape, dt);
  const kshape = [...x.shape.slice(0, -1), 1];
  const [mu, md] = alloc(kshape, dt);
  const [rstd, rd] = alloc(kshape, dt);
  K().layerNorm(
    fdata('layerNorm', x),
    weight ? fdata('layerNorm', weight) : null,
    bias ? fdata('layerNorm', bias) : null,
    eps,
    yd,
    md,
    rd,
    rows,
    n,
  );
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, 'layerNorm', inputs, (g) => {
    const xhat = mul(sub(x, mu), rstd);
    const gw = weight ? mul(g, weight) : g;
    const dx = x.requiresGrad
      ? mul(rstd, sub(sub(gw, mean(gw, -1, { keepDim: true })), mul(xhat, mean(mul(gw, xhat), -1, { keepDim: true }))))
      : null;
    const grads: (Tensor | null)[] = [dx];
    if (weight) grads.push(weight.requiresGrad ? sumRows(mul(g, xhat), n) : null);
    if (bias) grads.push(bias.requiresGrad ? sumRows(g, n) : null);
    return grads;
  });
}

/** GroupNorm over x [N, C, ...spatial] with `groups` groups of C/groups channels. */
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps: number): Tensor {
  if (x.rank < 2) throw new Error(`groupNorm: expected [N, C, ...], got ${fmt(x.shape)}`);
  const nb = x.shape[0] as number;
  const c = x.shape[1] as number;
  if (c % groups !== 0) throw new Error(`groupNorm: ${c} channels are not divisible into ${groups} groups`);
  checkAffine('groupNorm', weight, c);
  checkAffine('groupNorm', bias, c);
  const spatial = x.size / (nb * c);
  const dt = floatDType('groupNorm', x);
  const [y, yd] = alloc(x.shape, dt);
  const [mu, md] = alloc([nb, groups, 1], dt);
  const [rstd, rd] = alloc([nb, groups, 1], dt);
  K().groupNorm(
    fdata('groupNorm', x),
    weight ? fdata('groupNorm', weight) : null,
    bias ? fdata('groupNorm', bias) : null,
    eps,
    yd,
    md,
    rd,
    nb,
    c,
    groups,
    spatial,
  );
  const inputs = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  return record(y, 'groupNorm', inputs, (g) => {
    const xg = reshape(x, [nb, groups, -1]);
    const xhat = mul(sub(xg, mu), rstd); // [N, G, cg·S]
    const chan = (t: Tensor) => reshape(t, [1, c, 1]);
    const g3 = reshape(g, [nb, c, spatial]);
    const gw = weight ? mul(g3, chan(weight)) : g3;
    const gwg = reshape(gw, [nb, groups, -1]);
    const dx = x.requiresGrad
      ? reshape(
          mul(rstd, sub(sub(gwg, mean(gwg, -1, { keepDim: true })), mul(xhat, mean(mul(gwg, xhat), -1, { keepDim: true })))),
          x.shape,
        )
      : null;
    const grads: (Tensor | null)[] = [dx];
    const perChan = (t: Tensor) => sum(sum(t, 2), 0); // [N, C, S] → [C]
    if (weight) grads.push(weight.requiresGrad ? perChan(mul(g3, reshape(xhat, [nb, c, spatial]))) : null);
    if (bias) grads.push(bias.requiresGrad ? perChan(g3) : null);
    return grads;
  });
}

