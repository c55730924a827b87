// Reference elementwise kernels: unary ops, their derivatives, broadcasting binary ops, where.

import type { BinaryOp, Broadcast, F, UnaryOp } from '../kernels.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** erf with |error| < 1.2e-7 (Numerical Recipes erfc, Chebyshev fit), enough for float32. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r : r - 1;
}

function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

export function unaryScalar(op: UnaryOp, x: number): number {
  switch (op) {
    case 'neg':
      return -x;
    case 'abs':
      return Math.abs(x);
    case 'exp':
      return Math.exp(x);
    case 'log':
      return Math.log(x);
    case 'sqrt':
      return Math.sqrt(x);
    case 'rsqrt':
      return 1 / Math.sqrt(x);
    case 'tanh':
      return Math.tanh(x);
    case 'sigmoid':
      return sigmoid(x);
    case 'silu':
      return x * sigmoid(x);
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh':
      return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    case 'relu':
      return x > 0 ? x : 0;
    case 'square':
      return x * x;
    case 'recip':
      return 1 / x;
    case 'sin':
      return Math.sin(x);
    case 'cos':
      return Math.cos(x);
    default:
      return op satisfies never;
  }
}

/** f'(x) for each unary op. */
export function unaryDerivative(op: UnaryOp, x: number): number {
  switch (op) {
    case 'neg':
      return -1;
    case 'abs':
      return x > 0 ? 1 : x < 0 ? -1 : 0;
    case 'exp':
      return Math.exp(x);
    case 'log':
      return 1 / x;
    case 'sqrt':
      return 0.5 / Math.sqrt(x);
    case 'rsqrt':
      return -0.5 / (x * Math.sqrt(x));
    case 'tanh': {
      const t = Math.tanh(x);
      return 1 - t * t;
    }
    case 'sigmoid': {
      const s = sigmoid(x);
      return s * (1 - s);
    }
    case 'silu': {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    }
    case 'gelu': {
      const cdf = 0.5 * (1 + erf(x / Math.SQRT2));
      const pdf = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
      return cdf + x * pdf;
    }
    case 'gelu_tanh': {
      const u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
      const t = Math.tanh(u);
      const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x);
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du;
    }
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'square':
      return 2 * x;
    case 'recip':
      return -1 / (x * x);
    case 'sin':
      return Math.cos(x);
    case 'cos':
      return -Math.sin(x);
    default:
      return op satisfies never;
  }
}

export function unary(op: UnaryOp, x: F, out: F): void {
  const n = x.length;
  switch (op) {
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i] as number);
      return;
    case 'neg':
      for (let i = 0; i < n; i++) out[i] = -(x[i] as number);
      return;
    default:
      for (let i = 0; i < n; i++) out[i] = unaryScalar(op, x[i] as number);
  }
}

export function unaryGrad(op: UnaryOp, x: F, dy: F, dx: F): void {
  const n = x.length;
  for (let i = 0; i < n; i++) dx[i] = (dy[i] as number) * unaryDerivative(op, x[i] as number);
}

export function binaryScalar(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return a / b;
    case 'max':
      return a >= b ? a : b;
    case 'min':
      return a <= b ? a : b;
    case 'pow':
      return Math.pow(a, b);
    default:
      return op satisfies never;
  }
}

/** Walks a broadcast index space, calling body(outIndex, offsets...) over the last axis fast. */
function forEachRow(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  body: (o: number, offs: readonly number[], len: number, inner: readonly number[]) => void,
): void {
  const r = shape.length;
  if (r === 0) {
    body(0, strides.map(() => 0), 1, strides.map(() => 0));
    return;
  }
  const len = shape[r - 1] as number;
  const inner = strides.map((s) => s[r - 1] as number);
  let rows = 1;
  for (let i = 0; i < r - 1; i++) rows *= shape[i] as number;
  const idx = new Array<number>(r - 1).fill(0);
  const offs = strides.map(() => 0);
  for (let row = 0; row < rows; row++) {
    body(row * len, offs, len, inner);
    for (let ax = r - 2; ax >= 0; ax--) {
      idx[ax] = (idx[ax] as number) + 1;
      for (let t = 0; t < offs.length; t++) offs[t] = (offs[t] as number) + ((strides[t] as number[])[ax] as number);
      if ((idx[ax] as number) < (shape[ax] as number)) break;
      for (let t = 0; t < offs.length; t++)
        offs[t] = (offs[t] as number) - ((strides[t] as number[])[ax] as number) * (shape[ax] as number);
      idx[ax] = 0;
    }
  }
}

/** True when strides are the row-major strides of shape (size-1 axes may have any stride). */
function contiguous(strides: readonly number[], shape: readonly number[]): boolean {
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] as number;
    if (d !== 1 && strides[i] !== acc) return false;
    acc *= d;
  }
  return true;
}

export function binary(op: BinaryOp, a: F, b: F, out: F, bc: Broadcast): void {
  const n = out.length;
  if (a.length === n && b.length === n && contiguous(bc.aStrides, bc.shape) && contiguous(bc.bStrides, bc.shape)) {
    switch (op) {
      case 'add':
        for (let i = 0; i < n; i++) out[i] = (a[i] as number) + (b[i] as number);
        return;
      case 'mul':
        for (let i = 0; i < n; i++) out[i] = (a[i] as number) * (b[i] as number);
        return;
      default:
        for (let i = 0; i < n; i++) out[i] = binaryScalar(op, a[i] as number, b[i] as number);
        return;
    }
  }
  forEachRow(bc.shape, [bc.aStrides, bc.bStrides], (o, offs, len, inner) => {
    let ia = offs[0] as number;
    let ib = offs[1] as number;
    const sa = inner[0] as number;
    const sb = inner[1] as number;
    for (let j = 0; j < len; j++, ia += sa, ib += sb) {
      out[o + j] = binaryScalar(op, a[ia] as number, b[ib] as number);
    }
  });
}

export function where(
  cond: Int32Array,
  a: F,
  b: F,
  out: F,
  shape: readonly number[],
  condStrides: readonly number[],
  aStrides: readonly number[],
  bStrides: readonly number[],
): void {
  forEachRow(shape, [condStrides, aStrides, bStrides], (o, offs, len, inner) => {
    let ic = offs[0] as number;
    let ia = offs[1] as number;
    let ib = offs[2] as number;
    for (let j = 0; j < len; j++) {
      out[o + j] = (cond[ic] as number) !== 0 ? (a[ia] as number) : (b[ib] as number);
      ic += inner[0] as number;
      ia += inner[1] as number;
      ib += inner[2] as number;
    }
  });
}
