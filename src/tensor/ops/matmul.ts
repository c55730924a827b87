// Matrix products: matmul with NumPy batch broadcasting and optional transposed operands.

import type { MatmulParams } from '../../backend/kernels.js';
import { record } from '../autograd.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { K, alloc, fdata, sameFloat } from './util.js';
import { sumToShape } from './reduce.js';
import { reshape } from './layout.js';

export interface MatmulOpts {
  readonly transA?: boolean;
  readonly transB?: boolean;
}

/** a [..., m, k] · b [..., k, n] → [..., m, n] (with transA, a is [..., k, m]; with transB, b is
 *  [..., n, k]). Batch axes broadcast when one side has a single batch or fewer axes; 1-D
 *  operands are promoted as in NumPy. */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOpts = {}): Tensor {
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  if (a.rank === 1) return reshape(matmul(reshape(a, [1, a.size]), b, { transB }), b.rank === 1 ? [] : dropAxis(matmulShape(reshape(a, [1, a.size]), b, false, transB), -2));
  if (b.rank === 1) return reshape(matmul(a, reshape(b, [b.size, 1]), { transA }), dropAxis(matmulShape(a, reshape(b, [b.size, 1]), transA, false), -1));
  const dt = sameFloat('matmul', a, b);
  const outShape = matmulShape(a, b, transA, transB);
  const m = outShape[outShape.length - 2] as number;
  const n = outShape[outShape.length - 1] as number;
  const k = transA ? (a.shape[a.rank - 2] as number) : (a.shape[a.rank - 1] as number);
  const batch = outShape.slice(0, -2).reduce((p, d) => p * d, 1);
  const aBatch = a.size / (m * k);
  const bBatch = b.size / (k * n);
  const [y, yd] = alloc(outShape, dt);
  const p: MatmulParams = {
    batch,
    m,
    n,
    k,
    transA,
    transB,
    strideA: aBatch === 1 ? 0 : m * k,
    strideB: bBatch === 1 ? 0 : k * n,
    accumulate: false,
  };
  if (aBatch !== 1 && aBatch !== batch) throw badBatch(a, b);
  if (bBatch !== 1 && bBatch !== batch) throw badBatch(a, b);
  K().matmul(fdata('matmul', a), fdata('matmul', b), yd, p);
  return record(y, 'matmul', [a, b], (g) => {
    // y = A·B: dA = g·Bᵀ, dB = Aᵀ·g (in stored orientation of each operand).
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (a.requiresGrad) {
      const full = transA ? matmul(b, g, { transA: transB, transB: true }) : matmul(g, b, { transB: !transB });
      da = sumToShape(full, batchedShape(a, outShape));
      da = reshape(da, a.shape);
    }
    if (b.requiresGrad) {
      const full = transB ? matmul(g, a, { transA: true, transB: transA }) : matmul(a, g, { transA: !transA });
      db = sumToShape(full, batchedShape(b, outShape));
      db = reshape(db, b.shape);
    }
    return [da, db];
  });
}

function batchedShape(t: Tensor, outShape: readonly number[]): number[] {
  // t's own shape padded with leading 1s to the output rank (so sumToShape reduces broadcasts).
  const pad = outShape.length - t.rank;
  return [...new Array<number>(Math.max(pad, 0)).fill(1), ...t.shape];
}

function badBatch(a: Tensor, b: Tensor): Error {
  return new Error(`matmul: batch axes of ${fmt(a.shape)} and ${fmt(b.shape)} cannot be broadcast (one side must have a single batch or the same batch axes)`);
}

function dropAxis(shape: readonly number[], axis: number): number[] {
  const s = [...shape];
  s.splice(axis < 0 ? s.length + axis : axis, 1);
  return s;
}

function matmulShape(a: Tensor, b: Tensor, transA: boolean, transB: boolean): number[] {
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul: operands must have rank ≥ 2 after promoting 1-D operands, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  const m = (transA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]) as number;
  const ka = (transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]) as number;
  const kb = (transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]) as number;
  const n = (transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]) as number;
  if (ka !== kb) throw new Error(`matmul: inner dims ${ka} and ${kb} differ (${fmt(a.shape)}${transA ? 'ᵀ' : ''} · ${fmt(b.shape)}${transB ? 'ᵀ' : ''})`);
  const ba = a.shape.slice(0, -2);
  const bb = b.shape.slice(0, -2);
  const r = Math.max(ba.length, bb.length);
  const batch: number[] = [];
  for (let i = 0; i < r; i++) {
    const x = ba[ba.length - r + i] ?? 1;
    const y = bb[bb.length - r + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw badBatch(a, b);
    batch.push(Math.max(x, y));
  }
  return [...batch, m, n];
}
