// Shape and data-movement ops: reshape (a view), permute/transpose, narrow/split (narrowing the
// leading axis is a view), concat/stack, expand, gather along an axis (indexSelect, embedding).

import { record } from '../autograd.js';
import { around, fmt, normAxis, numel, stridesOf, type Shape } from '../shape.js';
import { Tensor, zeros } from '../tensor.js';
import { K, alloc, fdata, floatDType, idata } from './util.js';
import { sumToShape } from './reduce.js';

/** Same data, new shape (one dimension may be -1). Shares storage. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const neg = s.indexOf(-1);
  if (neg >= 0) {
    const rest = s.reduce((p, d, i) => (i === neg ? p : p * d), 1);
    s[neg] = rest === 0 ? 0 : x.size / rest;
  }
  if (numel(s) !== x.size || s.some((d) => !Number.isInteger(d))) {
    throw new Error(`reshape: cannot view ${fmt(x.shape)} (${x.size} elements) as ${fmt(shape)}`);
  }
  const y = new Tensor(x.data, s);
  return record(y, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}

export function flatten(x: Tensor, startAxis = 0): Tensor {
  const a = normAxis('flatten', startAxis, Math.max(x.rank, 1));
  return reshape(x, [...x.shape.slice(0, a), -1]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('unsqueeze', axis, x.rank + 1);
  const s = [...x.shape];
  s.splice(a, 0, 1);
  return reshape(x, s);
}

export function squeeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('squeeze', axis, x.rank);
  if (x.shape[a] !== 1) throw new Error(`squeeze: axis ${axis} of ${fmt(x.shape)} has size ${x.shape[a]}, not 1`);
  const s = [...x.shape];
  s.splice(a, 1);
  return reshape(x, s);
}

/** Reorders axes: output axis i is input axis perm[i]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  if (perm.length !== x.rank || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new Error(`permute: [${perm.join(', ')}] is not a permutation of the ${x.rank} axes of ${fmt(x.shape)}`);
  }
  if (perm.every((p, i) => p === i)) return x;
  const shape = perm.map((p) => x.shape[p] as number);
  if (x.dtype === 'int32') {
    const out = new Int32Array(x.size);
    const tmp = new Float64Array(x.data);
    const o64 = new Float64Array(x.size);
    K().permute(tmp, x.shape, perm, o64);
    out.set(o64);
    return new Tensor(out, shape);
  }
  const [y, yd] = alloc(shape, floatDType('permute', x));
  K().permute(fdata('permute', x), x.shape, perm, yd);
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return record(y, 'permute', [x], (g) => [permute(g, inv)]);
}

export function transpose(x: Tensor, a0: number, a1: number): Tensor {
  const a = normAxis('transpose', a0, x.rank);
  const b = normAxis('transpose', a1, x.rank);
  const perm = x.shape.map((_, i) => i);
  perm[a] = b;
  perm[b] = a;
  return permute(x, perm);
}

/** Elements [start, start+length) along axis. A view when axis is the first non-unit axis. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normAxis('narrow', axis, x.rank);
  const dim = x.shape[a] as number;
  if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > dim) {
    throw new Error(`narrow: range [${start}, ${start + length}) is outside axis ${axis} of size ${dim} in ${fmt(x.shape)}`);
  }
  const shape = [...x.shape];
  shape[a] = length;
  const [outer, n, inner] = around(x.shape, a);
  let y: Tensor;
  if (outer === 1) {
    y = new Tensor(x.data.subarray(start * inner, (start + length) * inner), shape);
  } else {
    const out = x.data.constructor === Int32Array ? new Int32Array(numel(shape)) : alloc(shape, floatDType('narrow', x))[1];
    for (let o = 0; o < outer; o++) {
      out.set(x.data.subarray((o * n + start) * inner, (o * n + start + length) * inner), o * length * inner);
    }
    y = new Tensor(out, shape);
  }
  if (x.dtype === 'int32') return y;
  return record(y, 'narrow', [x], (g) => {
    const [dx, dxd] = alloc(x.shape, floatDType('narrow', x));
    const gd = fdata('narrow', g);
    for (let o = 0; o < outer; o++) dxd.set(gd.subarray(o * length * inner, (o + 1) * length * inner), (o * n + start) * inner);
    return [dx];
  });
}

/** Splits axis into pieces of the given sizes (or equal pieces of `sizes` elements). */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  const a = normAxis('split', axis, x.rank);
  const dim = x.shape[a] as number;
  const parts: number[] = [];
  if (typeof sizes === 'number') for (let s = 0; s < dim; s += sizes) parts.push(Math.min(sizes, dim - s));
  else parts.push(...sizes);
  if (parts.reduce((p, q) => p + q, 0) !== dim) {
    throw new Error(`split: sizes [${parts.join(', ')}] do not add up to axis ${axis} of size ${dim}`);
  }
  const out: Tensor[] = [];
  let s = 0;
  for (const p of parts) {
    out.push(narrow(x, a, s, p));
    s += p;
  }
  return out;
}

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  const first = xs[0];
  if (!first) throw new Error('concat: no tensors given');
  const a = normAxis('concat', axis, first.rank);
  let total = 0;
  for (const t of xs) {
    if (t.rank !== first.rank || t.dtype !== first.dtype || t.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new Error(`concat: ${t.dtype} ${fmt(t.shape)} does not match ${first.dtype} ${fmt(first.shape)} outside axis ${axis}`);
    }
    total += t.shape[a] as number;
  }
  const shape = [...first.shape];
  shape[a] = total;
  const [outer, , inner] = around(shape, a);
  const out = first.dtype === 'int32' ? new Int32Array(numel(shape)) : alloc(shape, floatDType('concat', first))[1];
  let off = 0;
  for (const t of xs) {
    const len = (t.shape[a] as number) * inner;
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * len, (o + 1) * len), o * total * inner + off);
    off += len;
  }
  const y = new Tensor(out, shape);
  if (first.dtype === 'int32') return y;
  return record(y, 'concat', xs, (g) => {
    const grads: Tensor[] = [];
    let s = 0;
    for (const t of xs) {
      const len = t.shape[a] as number;
      grads.push(narrow(g, a, s, len));
      s += len;
    }
    return grads;
  });
}

export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  return concat(
    xs.map((t) => unsqueeze(t, axis < 0 ? axis + t.rank + 1 : axis)),
    axis < 0 ? axis + (xs[0]?.rank ?? 0) + 1 : axis,
  );
}

/** Broadcasts x to `shape` (materialised copy). */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (x.shape.length === shape.length && x.shape.every((d, i) => d === shape[i])) return x;
  if (x.dtype === 'int32') throw new Error('expand: int32 tensors are not supported; expand a float tensor');
  const lead = shape.length - x.rank;
  if (lead < 0 || x.shape.some((d, i) => d !== 1 && d !== shape[lead + i])) {
    throw new Error(`expand: cannot broadcast ${fmt(x.shape)} to ${fmt(shape)}`);
  }
  const [y, yd] = alloc(shape, floatDType('expand', x));
  const st = stridesOf(x.shape);
  const bs = shape.map((d, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : (st[i - lead] as number)));
  const zero = zeros([], x.dtype);
  K().binary('add', fdata('expand', x), fdata('expand', zero), yd, { shape, aStrides: bs, bStrides: shape.map(() => 0) });
  return record(y, 'expand', [x], (g) => [sumToShape(g, x.shape)]);
}

/** Selects entries of x along axis by an int32 index tensor; output axis is replaced by idx's
 *  shape. Backward scatter-adds (repeated indices accumulate). */
export function indexSelect(x: Tensor, axis: number, idx: Tensor): Tensor {
  const a = normAxis('indexSelect', axis, x.rank);
  const id = idata('indexSelect', idx);
  const dim = x.shape[a] as number;
  for (let i = 0; i < id.length; i++) {
    const v = id[i] as number;
    if (v < 0 || v >= dim) throw new Error(`indexSelect: index ${v} at position ${i} is out of range [0, ${dim}) for axis ${axis} of ${fmt(x.shape)}`);
  }
  const [outer, n, inner] = around(x.shape, a);
  const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
  const [y, yd] = alloc(shape, floatDType('indexSelect', x));
  K().gather(fdata('indexSelect', x), id, yd, outer, n, inner);
  return record(y, 'indexSelect', [x], (g) => {
    const [dx, dxd] = alloc(x.shape, floatDType('indexSelect', x));
    K().scatterAdd(fdata('indexSelect', g), id, dxd, outer, n, inner);
    return [dx];
  });
}

/** Embedding lookup: weight [V, D], idx int32 [...] → [..., D]. */
export function embedding(weight: Tensor, idx: Tensor): Tensor {
  if (weight.rank !== 2) throw new Error(`embedding: weight must be [V, D], got ${fmt(weight.shape)}`);
  return indexSelect(weight, 0, idx);
}
