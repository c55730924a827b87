// Reference reductions over the middle axis of [outer, n, inner].

import type { F } from '../kernels.js';

export function reduce(
  op: 'sum' | 'max' | 'min',
  x: F,
  out: F,
  outer: number,
  n: number,
  inner: number,
): void {
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let r = 0; r < inner; r++) {
      let acc = op === 'sum' ? 0 : op === 'max' ? -Infinity : Infinity;
      for (let i = 0; i < n; i++) {
        const v = x[base + i * inner + r] as number;
        if (op === 'sum') acc += v;
        else if (op === 'max') acc = v > acc || Number.isNaN(v) ? v : acc;
        else acc = v < acc || Number.isNaN(v) ? v : acc;
      }
      out[o * inner + r] = acc;
    }
  }
}

/** Index of the first maximum (NaN counts as maximal, as in torch). */
export function argmax(x: F, out: Int32Array, outer: number, n: number, inner: number): void {
  for (let o = 0; o < outer; o++) {
    const base = o * n * inner;
    for (let r = 0; r < inner; r++) {
      let best = -Infinity;
      let bi = 0;
      for (let i = 0; i < n; i++) {
        const v = x[base + i * inner + r] as number;
        if (v > best || (Number.isNaN(v) && !Number.isNaN(best))) {
          best = v;
          bi = i;
        }
      }
      out[o * inner + r] = bi;
    }
  }
}
