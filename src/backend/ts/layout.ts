// Reference data-movement kernels: permute, gather along an axis, scatter-add.

import type { F } from '../kernels.js';

export function permute(x: F, shape: readonly number[], perm: readonly number[], out: F): void {
  const r = shape.length;
  const inStrides = new Array<number>(r);
  let acc = 1;
  for (let i = r - 1; i >= 0; i--) {
    inStrides[i] = acc;
    acc *= shape[i] as number;
  }
  const oShape = perm.map((p) => shape[p] as number);
  const oStr = perm.map((p) => inStrides[p] as number);
  if (r === 0) {
    out[0] = x[0] as number;
    return;
  }
  const last = oShape[r - 1] as number;
  const lastStride = oStr[r - 1] as number;
  const idx = new Array<number>(r).fill(0);
  let src = 0;
  const total = out.length;
  for (let o = 0; o < total; o += last) {
    let s = src;
    for (let j = 0; j < last; j++, s += lastStride) out[o + j] = x[s] as number;
    for (let ax = r - 2; ax >= 0; ax--) {
      idx[ax] = (idx[ax] as number) + 1;
      src += oStr[ax] as number;
      if ((idx[ax] as number) < (oShape[ax] as number)) break;
      src -= (oStr[ax] as number) * (oShape[ax] as number);
      idx[ax] = 0;
    }
  }
}

export function gather(x: F, idx: Int32Array, out: F, outer: number, axisLen: number, inner: number): void {
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const src = (o * axisLen + (idx[i] as number)) * inner;
      const dst = (o * m + i) * inner;
      for (let r = 0; r < inner; r++) out[dst + r] = x[src + r] as number;
    }
  }
}

export function scatterAdd(dy: F, idx: Int32Array, dx: F, outer: number, axisLen: number, inner: number): void {
  const m = idx.length;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < m; i++) {
      const dst = (o * axisLen + (idx[i] as number)) * inner;
      const src = (o * m + i) * inner;
      for (let r = 0; r < inner; r++) dx[dst + r] = (dx[dst + r] as number) + (dy[src + r] as number);
    }
  }
}
