// Reductions over one axis (or all elements): sum, mean, max, min, argmax, logsumexp, and
// sumToShape (the adjoint of broadcasting).

import { record } from '../autograd.js';
import { around, broadcastStrides, fmt, normAxis, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { K, alloc, allocInt, fdata, floatDType } from './util.js';
import { expand, reshape } from './layout.js';
import { exp, mul, sub } from './elementwise.js';

export interface ReduceOpts {
  readonly keepDim?: boolean;
}

function reducedShape(shape: Shape, axis: number, keepDim: boolean): number[] {
  const s = [...shape];
  if (keepDim) s[axis] = 1;
  else s.splice(axis, 1);
  return s;
}

function reduceRaw(op: 'sum' | 'max' | 'min', x: Tensor, axis: number, keepDim: boolean): Tensor {
  const dt = floatDType(op, x);
  const [outer, n, inner] = around(x.shape, axis);
  const [y, yd] = alloc(reducedShape(x.shape, axis, keepDim), dt);
  K().reduce(op, fdata(op, x), yd, outer, n, inner);
  return y;
}

/** Sum over `axis` (all elements when axis is undefined). */
export function sum(x: Tensor, axis?: number, opts: ReduceOpts = {}): Tensor {
  if (axis === undefined) {
    const all = sum(reshape(x, [x.size]), 0);
    return opts.keepDim ? reshape(all, x.shape.map(() => 1)) : all;
  }
  const a = normAxis('sum', axis, x.rank);
  const keep = opts.keepDim ?? false;
  const y = reduceRaw('sum', x, a, keep);
  return record(y, 'sum', [x], (g) => [expand(reshape(g, reducedShape(x.shape, a, true)), x.shape)]);
}

export function mean(x: Tensor, axis?: number, opts: ReduceOpts = {}): Tensor {
  const n = axis === undefined ? x.size : (x.shape[normAxis('mean', axis, x.rank)] as number);
  return mul(sum(x, axis, opts), 1 / n);
}

function extremum(op: 'max' | 'min', x: Tensor, axis: number, opts: ReduceOpts): Tensor {
  const a = normAxis(op, axis, x.rank);
  const keep = opts.keepDim ?? false;
  const y = reduceRaw(op, x, a, keep);
  return record(y, op, [x], (g) => {
    // Gradient to the first extremal element of each slice (as torch.max(dim) does).
    const idx = argReduce(op, x, a);
    const [outer, n, inner] = around(x.shape, a);
    const [dx, dxd] = alloc(x.shape, floatDType(op, x));
    const gd = fdata(op, g);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < inner; r++) {
        const i = idx[o * inner + r] as number;
        dxd[(o * n + i) * inner + r] = gd[o * inner + r] as number;
      }
    }
    return [dx];
  });
}

function argReduce(op: 'max' | 'min', x: Tensor, axis: number): Int32Array {
  const [outer, n, inner] = around(x.shape, axis);
  const out = new Int32Array(outer * inner);
  const src = fdata(op, x);
  if (op === 'max') {
    K().argmax(src, out, outer, n, inner);
  } else {
    const negd = src.map((v) => -v);
    K().argmax(negd, out, outer, n, inner);
  }
  return out;
}

export function max(x: Tensor, axis: number, opts: ReduceOpts = {}): Tensor {
  return extremum('max', x, axis, opts);
}

export function min(x: Tensor, axis: number, opts: ReduceOpts = {}): Tensor {
  return extremum('min', x, axis, opts);
}

/** Index of the (first) maximum along axis, int32. */
export function argmax(x: Tensor, axis: number, opts: ReduceOpts = {}): Tensor {
  const a = normAxis('argmax', axis, x.rank);
  const [outer, n, inner] = around(x.shape, a);
  const [y, yd] = allocInt(reducedShape(x.shape, a, opts.keepDim ?? false));
  K().argmax(fdata('argmax', x), yd, outer, n, inner);
  return y;
}

/** log Σ exp(x) over axis, computed stably. */
export function logsumexp(x: Tensor, axis: number, opts: ReduceOpts = {}): Tensor {
  const a = normAxis('logsumexp', axis, x.rank);
  const keep = opts.keepDim ?? false;
  const [outer, n, inner] = around(x.shape, a);
  const xd = fdata('logsumexp', x);
  const [y, yd] = alloc(reducedShape(x.shape, a, keep), floatDType('logsumexp', x));
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < inner; r++) {
      let m = -Infinity;
      for (let i = 0; i < n; i++) m = Math.max(m, xd[(o * n + i) * inner + r] as number);
      let s = 0;
      if (m !== -Infinity) for (let i = 0; i < n; i++) s += Math.exp((xd[(o * n + i) * inner + r] as number) - m);
      yd[o * inner + r] = m === -Infinity ? -Infinity : m + Math.log(s);
    }
  }
  return record(y, 'logsumexp', [x], (g) => {
    const kshape = reducedShape(x.shape, a, true);
    const p = exp(sub(x, reshape(y, kshape)));
    return [mul(p, reshape(g, kshape))];
  });
}

/** Sums g (of a broadcast shape) back down to `shape`: the adjoint of broadcasting. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  if (g.shape.length < shape.length) {
    throw new Error(`sumToShape: cannot reduce ${fmt(g.shape)} to the larger rank ${fmt(shape)}`);
  }
  const lead = g.shape.length - shape.length;
  let t = g;
  for (let i = 0; i < lead; i++) t = sum(t, 0);
  const strides = broadcastStrides(shape, t.shape);
  for (let i = 0; i < shape.length; i++) {
    if (strides[i] === 0 && (t.shape[i] as number) !== 1) t = sum(t, i, { keepDim: true });
  }
  return reshape(t, shape);
}
