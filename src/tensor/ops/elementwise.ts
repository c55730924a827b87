// Elementwise ops with NumPy broadcasting: unary functions, arithmetic, comparisons, where.

import type { BinaryOp, UnaryOp } from '../../backend/kernels.js';
import { record } from '../autograd.js';
import { broadcastShapes, broadcastStrides, sameShape, type Shape } from '../shape.js';
import { Tensor, full } from '../tensor.js';
import { K, alloc, allocInt, fdata, floatDType, idata, sameFloat } from './util.js';
import { sumToShape } from './reduce.js';

export type Operand = Tensor | number;

function asTensor(x: Operand, like: Tensor): Tensor {
  return typeof x === 'number' ? full([], x, like.dtype === 'int32' ? 'float32' : like.dtype) : x;
}

// ---- unary ----------------------------------------------------------------------------------

export function unary(op: UnaryOp, x: Tensor): Tensor {
  const dt = floatDType(op, x);
  const [y, yd] = alloc(x.shape, dt);
  K().unary(op, fdata(op, x), yd);
  return record(y, op, [x], (g) => {
    const [dx, dxd] = alloc(x.shape, dt);
    K().unaryGrad(op, fdata(op, x), fdata(op, g), dxd);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unary('neg', x);
export const abs = (x: Tensor): Tensor => unary('abs', x);
export const exp = (x: Tensor): Tensor => unary('exp', x);
export const log = (x: Tensor): Tensor => unary('log', x);
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x);
export const rsqrt = (x: Tensor): Tensor => unary('rsqrt', x);
export const tanh = (x: Tensor): Tensor => unary('tanh', x);
export const sigmoid = (x: Tensor): Tensor => unary('sigmoid', x);
export const silu = (x: Tensor): Tensor => unary('silu', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);
export const square = (x: Tensor): Tensor => unary('square', x);
export const sin = (x: Tensor): Tensor => unary('sin', x);
export const cos = (x: Tensor): Tensor => unary('cos', x);
/** GELU; approximate 'tanh' as in nn.GELU(approximate='tanh'). */
export const gelu = (x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor =>
  unary(approximate === 'tanh' ? 'gelu_tanh' : 'gelu', x);

// ---- binary ---------------------------------------------------------------------------------

function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const dt = sameFloat(op, a, b);
  const shape = broadcastShapes(op, a.shape, b.shape);
  const [y, yd] = alloc(shape, dt);
  K().binary(op, fdata(op, a), fdata(op, b), yd, {
    shape,
    aStrides: broadcastStrides(a.shape, shape),
    bStrides: broadcastStrides(b.shape, shape),
  });
  return y;
}

export function add(a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(a, b);
  const y = binaryRaw('add', ta, tb);
  return record(y, 'add', [ta, tb], (g) => [sumToShape(g, ta.shape), sumToShape(g, tb.shape)]);
}

export function sub(a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(a, b);
  const y = binaryRaw('sub', ta, tb);
  return record(y, 'sub', [ta, tb], (g) => [
    sumToShape(g, ta.shape),
    tb.requiresGrad ? sumToShape(neg(g), tb.shape) : null,
  ]);
}

export function mul(a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(a, b);
  const y = binaryRaw('mul', ta, tb);
  return record(y, 'mul', [ta, tb], (g) => [
    ta.requiresGrad ? sumToShape(binaryRaw('mul', g, tb), ta.shape) : null,
    tb.requiresGrad ? sumToShape(binaryRaw('mul', g, ta), tb.shape) : null,
  ]);
}

export function div(a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(a, b);
  const y = binaryRaw('div', ta, tb);
  return record(y, 'div', [ta, tb], (g) => {
    const ga = binaryRaw('div', g, tb);
    return [
      ta.requiresGrad ? sumToShape(ga, ta.shape) : null,
      tb.requiresGrad ? sumToShape(neg(binaryRaw('mul', ga, y)), tb.shape) : null,
    ];
  });
}

/** Elementwise maximum; the gradient goes to a where a ≥ b, else to b. */
export function maximum(a: Operand, b: Operand): Tensor {
  return minmax('max', a, b);
}

export function minimum(a: Operand, b: Operand): Tensor {
  return minmax('min', a, b);
}

function minmax(op: 'max' | 'min', a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(a, b);
  const y = binaryRaw(op, ta, tb);
  return record(y, op, [ta, tb], (g) => {
    const pickA = op === 'max' ? compare('ge', ta, tb) : compare('le', ta, tb);
    const zero = full([], 0, g.dtype);
    return [
      ta.requiresGrad ? sumToShape(where(pickA, g, zero), ta.shape) : null,
      tb.requiresGrad ? sumToShape(where(pickA, zero, g), tb.shape) : null,
    ];
  });
}

/** x ** p for a constant exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  const e = full([], p, floatDType('pow', x));
  const y = binaryRaw('pow', x, e);
  return record(y, 'pow', [x], (g) => {
    const d = binaryRaw('mul', binaryRaw('pow', x, full([], p - 1, x.dtype)), full([], p, x.dtype));
    return [binaryRaw('mul', g, d)];
  });
}

function operands(a: Operand, b: Operand): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') {
    return [full([], a), full([], b)];
  }
  const ta = typeof a === 'number' ? asTensor(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? asTensor(b, ta) : b;
  return [ta, tb];
}

// ---- comparisons and selection --------------------------------------------------------------

export type CompareOp = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';

/** Elementwise comparison with broadcasting; returns an int32 mask (1 = true). No gradient. */
export function compare(op: CompareOp, a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(a, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const [y, yd] = allocInt(shape);
  const sa = broadcastStrides(ta.shape, shape);
  const sb = broadcastStrides(tb.shape, shape);
  const ad = ta.data;
  const bd = tb.data;
  const r = shape.length;
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < yd.length; i++) {
    let ia = 0;
    let ib = 0;
    for (let k = 0; k < r; k++) {
      ia += (idx[k] as number) * (sa[k] as number);
      ib += (idx[k] as number) * (sb[k] as number);
    }
    const x = ad[ia] as number;
    const z = bd[ib] as number;
    yd[i] = (
      op === 'gt' ? x > z : op === 'ge' ? x >= z : op === 'lt' ? x < z : op === 'le' ? x <= z : op === 'eq' ? x === z : x !== z
    )
      ? 1
      : 0;
    for (let k = r - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (shape[k] as number)) break;
      idx[k] = 0;
    }
  }
  return y;
}

/** cond ? a : b, all three broadcast together; cond is an int32 mask. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const [ta, tb] = operands(a, b);
  const dt = sameFloat('where', ta, tb);
  const cd = idata('where', cond);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, ta.shape), tb.shape);
  const [y, yd] = alloc(shape, dt);
  K().where(
    cd,
    fdata('where', ta),
    fdata('where', tb),
    yd,
    shape,
    broadcastStrides(cond.shape, shape),
    broadcastStrides(ta.shape, shape),
    broadcastStrides(tb.shape, shape),
  );
  return record(y, 'where', [ta, tb], (g) => {
    const zero = full([], 0, g.dtype);
    return [
      ta.requiresGrad ? sumToShape(where(cond, g, zero), ta.shape) : null,
      tb.requiresGrad ? sumToShape(where(cond, zero, g), tb.shape) : null,
    ];
  });
}

/** x with `value` wherever mask is nonzero (torch masked_fill). */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  return where(mask, value, x);
}

// ---- dtype conversion -----------------------------------------------------------------------

/** A float copy of x (int32 → float32; float64 ↔ float32 casts keep the gradient path). */
export function toFloat(x: Tensor, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  if (x.dtype === dtype) return x;
  const [y, yd] = alloc(x.shape, dtype);
  yd.set(x.data);
  if (x.dtype === 'int32') return y;
  return record(y, 'cast', [x], (g) => [toFloat(g, x.dtype === 'float64' ? 'float64' : 'float32')]);
}

/** Truncating conversion to int32 (for indices computed in float). */
export function toInt(x: Tensor): Tensor {
  if (x.dtype === 'int32') return x;
  const [y, yd] = allocInt(x.shape);
  const d = x.data;
  for (let i = 0; i < yd.length; i++) yd[i] = Math.trunc(d[i] as number);
  return y;
}

export function isSameShape(a: Tensor, b: Tensor): boolean {
  return sameShape(a.shape, b.shape);
}

export type { Shape };
