// Reference RMSNorm, LayerNorm and GroupNorm forward kernels (statistics in float64 locals).

import type { F } from '../kernels.js';

export function rmsNorm(x: F, weight: F | null, eps: number, out: F, rstd: F, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let ss = 0;
    for (let j = 0; j < n; j++) {
      const v = x[off + j] as number;
      ss += v * v;
    }
    const rs = 1 / Math.sqrt(ss / n + eps);
    rstd[r] = rs;
    for (let j = 0; j < n; j++) {
      out[off + j] = (x[off + j] as number) * rs * (weight ? (weight[j] as number) : 1);
    }
  }
}

export function layerNorm(
  x: F,
  weight: F | null,
  bias: F | null,
  eps: number,
  out: F,
  mean: F,
  rstd: F,
  rows: number,
  n: number,
): void {
  for (let r = 0; r < rows; r++) {
    const off = r * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += x[off + j] as number;
    const mu = s / n;
    let v = 0;
    for (let j = 0; j < n; j++) {
      const d = (x[off + j] as number) - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / n + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let j = 0; j < n; j++) {
      let y = ((x[off + j] as number) - mu) * rs;
      if (weight) y *= weight[j] as number;
      if (bias) y += bias[j] as number;
      out[off + j] = y;
    }
  }
}

export function groupNorm(
  x: F,
  weight: F | null,
  bias: F | null,
  eps: number,
  out: F,
  mean: F,
  rstd: F,
  n: number,
  channels: number,
  groups: number,
  spatial: number,
): void {
  const cg = channels / groups;
  const len = cg * spatial;
  for (let b = 0; b < n; b++) {
    for (let g = 0; g < groups; g++) {
      const off = (b * channels + g * cg) * spatial;
      let s = 0;
      for (let i = 0; i < len; i++) s += x[off + i] as number;
      const mu = s / len;
      let v = 0;
      for (let i = 0; i < len; i++) {
        const d = (x[off + i] as number) - mu;
        v += d * d;
      }
      const rs = 1 / Math.sqrt(v / len + eps);
      mean[b * groups + g] = mu;
      rstd[b * groups + g] = rs;
      for (let c = 0; c < cg; c++) {
        const ch = g * cg + c;
        const w = weight ? (weight[ch] as number) : 1;
        const bb = bias ? (bias[ch] as number) : 0;
        const o = off + c * spatial;
        for (let i = 0; i < spatial; i++) out[o + i] = ((x[o + i] as number) - mu) * rs * w + bb;
      }
    }
  }
}
