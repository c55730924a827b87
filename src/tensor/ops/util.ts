// Shared helpers of the op definitions: dtype checks, output allocation, backend access.

import { kernels } from '../../backend/registry.js';
import type { Backend, F } from '../../backend/kernels.js';
import { allocArray, type FloatDType } from '../dtype.js';
import { fmt, numel, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

export function K(): Backend {
  return kernels();
}

/** The float storage of t; throws naming the op when t holds integers. */
export function fdata(op: string, t: Tensor): F {
  const d = t.data;
  if (d instanceof Int32Array) {
    throw new Error(`${op}: expected a float tensor, got int32 ${fmt(t.shape)}; convert with toFloat()`);
  }
  return d;
}

export function idata(op: string, t: Tensor): Int32Array {
  const d = t.data;
  if (!(d instanceof Int32Array)) {
    throw new Error(`${op}: expected an int32 index tensor, got ${t.dtype} ${fmt(t.shape)}`);
  }
  return d;
}

export function floatDType(op: string, t: Tensor): FloatDType {
  if (t.dtype === 'int32') throw new Error(`${op}: expected a float tensor, got int32 ${fmt(t.shape)}`);
  return t.dtype;
}

export function sameFloat(op: string, a: Tensor, b: Tensor): FloatDType {
  const da = floatDType(op, a);
  const db = floatDType(op, b);
  if (da !== db) throw new Error(`${op}: dtypes differ (${da} and ${db}); cast one with toFloat()`);
  return da;
}

/** A fresh float tensor of the given shape and dtype, with its storage as F. */
export function alloc(shape: Shape, dtype: FloatDType): [Tensor, F] {
  const data = allocArray(dtype, numel(shape));
  return [new Tensor(data, shape), data];
}

export function allocInt(shape: Shape): [Tensor, Int32Array] {
  const data = new Int32Array(numel(shape));
  return [new Tensor(data, shape), data];
}
