// softmax, logSoftmax over the last axis, and cross-entropy with ignored positions.

import { record } from '../autograd.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { K, alloc, fdata, floatDType, idata } from './util.js';
import { mul, sub } from './elementwise.js';
import { sum } from './reduce.js';
import { exp } from './elementwise.js';

function rowsOf(x: Tensor): [number, number] {
  const n = x.shape[x.rank - 1] ?? 1;
  return [n === 0 ? 0 : x.size / n, n];
}

/** softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const [rows, n] = rowsOf(x);
  const [y, yd] = alloc(x.shape, floatDType('softmax', x));
  K().softmax(fdata('softmax', x), yd, rows, n);
  return record(y, 'softmax', [x], (g) => {
    // dx = y ⊙ (g − Σ g⊙y)
    const dot = sum(mul(g, y), -1, { keepDim: true });
    return [mul(y, sub(g, dot))];
  });
}

/** log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  const [rows, n] = rowsOf(x);
  const [y, yd] = alloc(x.shape, floatDType('logSoftmax', x));
  K().logSoftmax(fdata('logSoftmax', x), yd, rows, n);
  return record(y, 'logSoftmax', [x], (g) => {
    // dx = g − softmax · Σ g
    return [sub(g, mul(exp(y), sum(g, -1, { keepDim: true })))];
  });
}

export interface CrossEntropyOpts {
  /** Target value that contributes no loss (torch default −100). */
  readonly ignoreIndex?: number;
  /** 'mean' over non-ignored rows (torch default), 'sum', or 'none' (per-row losses). */
  readonly reduction?: 'mean' | 'sum' | 'none';
}

/** Cross-entropy of logits [..., V] against int32 targets [...]. */
export function crossEntropy(logits: Tensor, targets: Tensor, opts: CrossEntropyOpts = {}): Tensor {
  const ignore = opts.ignoreIndex ?? -100;
  const reduction = opts.reduction ?? 'mean';
  const [rows, n] = rowsOf(logits);
  const td = idata('crossEntropy', targets);
  if (td.length !== rows) {
    throw new Error(`crossEntropy: ${rows} logit rows (${fmt(logits.shape)}) but ${td.length} targets (${fmt(targets.shape)})`);
  }
  let counted = 0;
  for (let i = 0; i < rows; i++) {
    const t = td[i] as number;
    if (t === ignore) continue;
    if (t < 0 || t >= n) throw new Error(`crossEntropy: target ${t} at row ${i} is outside [0, ${n}) (ignoreIndex is ${ignore})`);
    counted++;
  }
  const dt = floatDType('crossEntropy', logits);
  const ld = fdata('crossEntropy', logits);
  const [perRow, pd] = alloc(targets.shape, dt);
  const [, lse] = alloc([rows], dt);
  K().crossEntropy(ld, td, ignore, pd, lse, rows, n);
  let y: Tensor;
  let scale = 1;
  if (reduction === 'none') y = perRow;
  else {
    let s = 0;
    for (let i = 0; i < rows; i++) s += pd[i] as number;
    scale = reduction === 'mean' ? (counted === 0 ? NaN : 1 / counted) : 1;
    [y] = alloc([], dt);
    fdata('crossEntropy', y)[0] = s * scale;
  }
  return record(y, 'crossEntropy', [logits], (g) => {
    // d logits[r] = (softmax(r) − onehot(target)) · g[r] (0 on ignored rows)
    const gd = fdata('crossEntropy', g);
    const [dx, dxd] = alloc(logits.shape, dt);
    K().softmax(ld, dxd, rows, n); // the backend's (vectorised) softmax
    for (let r = 0; r < rows; r++) {
      const t = td[r] as number;
      const off = r * n;
      if (t === ignore) {
        dxd.fill(0, off, off + n);
        continue;
      }
      const gr = (reduction === 'none' ? (gd[r] as number) : (gd[0] as number)) * scale;
      for (let j = 0; j < n; j++) dxd[off + j] = (dxd[off + j] as number) * gr;
      dxd[off + t] = (dxd[off + t] as number) - gr;
    }
    return [dx];
  });
}
