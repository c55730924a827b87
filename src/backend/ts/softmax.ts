// Reference row-wise softmax, log-softmax and fused cross-entropy.

import type { F } from '../kernels.js';

function rowMax(x: F, off: number, n: number): number {
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = x[off + j] as number;
    if (v > m) m = v;
  }
  return m;
}

export function softmax(x: F, out: F, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    const m = rowMax(x, off, n);
    if (m === -Infinity) {
      out.fill(0, off, off + n);
      continue;
    }
    let s = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp((x[off + j] as number) - m);
      out[off + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < n; j++) out[off + j] = (out[off + j] as number) * inv;
  }
}

/** log-sum-exp of one row. */
export function rowLse(x: F, off: number, n: number): number {
  const m = rowMax(x, off, n);
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp((x[off + j] as number) - m);
  return m + Math.log(s);
}

export function logSoftmax(x: F, out: F, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    const lse = rowLse(x, off, n);
    for (let j = 0; j < n; j++) out[off + j] = (x[off + j] as number) - lse;
  }
}

export function crossEntropy(
  logits: F,
  targets: Int32Array,
  ignoreIndex: number,
  loss: F,
  lse: F,
  rows: number,
  n: number,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    const l = rowLse(logits, off, n);
    lse[r] = l;
    const t = targets[r] as number;
    loss[r] = t === ignoreIndex ? 0 : l - (logits[off + t] as number);
  }
}
