// Tensor: a dtype, a shape and contiguous row-major storage. Views (reshape, narrowing of
// the leading axis) share storage; every op returns a fresh contiguous tensor.
// Autograd metadata (requiresGrad, grad, node) lives here; the engine is in autograd.ts.

import { allocArray, dtypeOf, type DType, type DTypeArray, type TypedArray } from './dtype.js';
import { numel, type Shape } from './shape.js';

/** A recorded op on the tape: its inputs and the rule mapping the output gradient to input
 *  gradients (null where an input needs none). Cleared once used, freeing saved tensors. */
export interface TapeNode {
  readonly op: string;
  readonly inputs: readonly Tensor[];
  backward: ((grad: Tensor) => readonly (Tensor | null)[]) | null;
}

export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: Shape;
  /** Exactly numel(shape) elements, row-major. May be a subarray view of a larger buffer. */
  readonly data: DTypeArray[D];
  requiresGrad = false;
  grad: Tensor<D> | null = null;
  node: TapeNode | null = null;

  constructor(data: DTypeArray[D], shape: Shape) {
    const n = numel(shape);
    if (data.length !== n) {
      throw new Error(
        `Tensor: data has ${data.length} elements but shape [${shape.join(', ')}] needs ${n}`,
      );
    }
    this.dtype = dtypeOf(data) as D;
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** Marks a leaf as trainable; returns this. */
  requireGrad(on = true): this {
    if (on && this.dtype === 'int32') throw new Error('requireGrad: int32 tensors have no gradient');
    this.requiresGrad = on;
    return this;
  }

  toString(): string {
    return `Tensor(${this.dtype}, [${this.shape.join(', ')}])`;
  }

  /** A plain array copy of the data (for tests and small outputs). */
  toArray(): number[] {
    return Array.from(this.data);
  }

  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has ${this.size} elements, expected 1`);
    return this.data[0] as number;
  }
}

export type FloatTensor = Tensor<'float32'> | Tensor<'float64'>;

export function tensor<D extends DType>(data: DTypeArray[D], shape?: Shape): Tensor<D> {
  return new Tensor(data, shape ?? [data.length]);
}

export function fromArray(values: readonly number[], shape?: Shape, dtype: DType = 'float32'): Tensor {
  const data = allocArray(dtype, values.length);
  data.set(values);
  return new Tensor(data, shape ?? [values.length]);
}

export function zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return new Tensor(allocArray(dtype, numel(shape)), shape);
}

export function full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const data = allocArray(dtype, numel(shape));
  data.fill(value);
  return new Tensor(data, shape);
}

export function ones(shape: Shape, dtype: DType = 'float32'): Tensor {
  return full(shape, 1, dtype);
}

export function scalar(value: number, dtype: DType = 'float32'): Tensor {
  return full([], value, dtype);
}

export function arange(n: number, dtype: DType = 'int32'): Tensor {
  const data = allocArray(dtype, n);
  for (let i = 0; i < n; i++) data[i] = i;
  return new Tensor(data, [n]);
}

export function isTypedArray(x: unknown): x is TypedArray {
  return x instanceof Float32Array || x instanceof Float64Array || x instanceof Int32Array;
}
