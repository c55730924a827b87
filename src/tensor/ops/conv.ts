// conv2d (groups = 1) and 2-D resizing (nearest, area, bilinear, bicubic) with PyTorch's
// align_corners=False conventions. Resizing is separable: out = Rh · x · Rwᵀ with per-axis
// weight matrices, so its gradient comes from matmul.

import type { Conv2dParams } from '../../backend/kernels.js';
import { record } from '../autograd.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { K, alloc, fdata, floatDType, sameFloat } from './util.js';
import { reshape } from './layout.js';
import { matmul } from './matmul.js';
import { sumToShape } from './reduce.js';

export interface Conv2dOpts {
  readonly stride?: number | readonly [number, number];
  readonly padding?: number | readonly [number, number];
}

function pair(v: number | readonly [number, number] | undefined, d: number): [number, number] {
  if (v === undefined) return [d, d];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

/** x [N, Cin, H, W], w [Cout, Cin, KH, KW], bias [Cout] → [N, Cout, OH, OW]. */
export function conv2d(x: Tensor, w: Tensor, bias: Tensor | null, opts: Conv2dOpts = {}): Tensor {
  if (x.rank !== 4 || w.rank !== 4) throw new Error(`conv2d: expected x [N,C,H,W] and w [Cout,Cin,KH,KW], got ${fmt(x.shape)} and ${fmt(w.shape)}`);
  const dt = sameFloat('conv2d', x, w);
  const [n, cin, h, wd] = x.shape as [number, number, number, number];
  const [cout, cin2, kh, kw] = w.shape as [number, number, number, number];
  if (cin !== cin2) throw new Error(`conv2d: input has ${cin} channels but weight expects ${cin2} (${fmt(x.shape)} vs ${fmt(w.shape)})`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== cout)) throw new Error(`conv2d: bias must be [${cout}], got ${fmt(bias.shape)}`);
  const [strideH, strideW] = pair(opts.stride, 1);
  const [padH, padW] = pair(opts.padding, 0);
  const oh = Math.floor((h + 2 * padH - kh) / strideH) + 1;
  const ow = Math.floor((wd + 2 * padW - kw) / strideW) + 1;
  if (oh <= 0 || ow <= 0) throw new Error(`conv2d: kernel ${kh}×${kw} does not fit input ${h}×${wd} with padding ${padH},${padW}`);
  const p: Conv2dParams = { n, cin, h, w: wd, cout, kh, kw, strideH, strideW, padH, padW, oh, ow };
  const [y, yd] = alloc([n, cout, oh, ow], dt);
  K().conv2d(fdata('conv2d', x), fdata('conv2d', w), bias ? fdata('conv2d', bias) : null, yd, p);
  const inputs = bias ? [x, w, bias] : [x, w];
  return record(y, 'conv2d', inputs, (g) => {
    const gd = fdata('conv2d', g);
    let dx: Tensor | null = null;
    let dw: Tensor | null = null;
    if (x.requiresGrad) {
      const [t, td] = alloc(x.shape, dt);
      K().conv2dGradInput(gd, fdata('conv2d', w), td, p);
      dx = t;
    }
    if (w.requiresGrad) {
      const [t, td] = alloc(w.shape, dt);
      K().conv2dGradWeight(fdata('conv2d', x), gd, td, p);
      dw = t;
    }
    const grads: (Tensor | null)[] = [dx, dw];
    if (bias) grads.push(bias.requiresGrad ? sumToShape(g, [1, cout, 1, 1]) : null);
    if (bias && grads[2]) grads[2] = reshape(grads[2] as Tensor, [cout]);
    return grads;
  });
}

export type ResizeMode = 'nearest' | 'area' | 'bilinear' | 'bicubic';

/** Row-stochastic [out, in] weights resampling one axis as F.interpolate(align_corners=False)
 *  does (size given, so scale = in / out; float32 coordinate arithmetic as in PyTorch's CPU
 *  kernels). `cubicA` is the bicubic coefficient (PyTorch: −0.75). */
export function resizeWeights(mode: ResizeMode, inSize: number, outSize: number, cubicA = -0.75): Float64Array {
  const wts = new Float64Array(outSize * inSize);
  const f = Math.fround;
  const scale = f(inSize / outSize);
  for (let o = 0; o < outSize; o++) {
    const row = o * inSize;
    if (mode === 'nearest') {
      wts[row + Math.min(Math.floor(f(o * scale)), inSize - 1)] = 1;
    } else if (mode === 'area') {
      const s = Math.floor((o * inSize) / outSize);
      const e = Math.ceil(((o + 1) * inSize) / outSize);
      for (let i = s; i < e; i++) wts[row + i] = 1 / (e - s);
    } else if (mode === 'bilinear') {
      const src = Math.max(f(f(scale * f(o + 0.5)) - 0.5), 0);
      const i0 = Math.min(Math.floor(src), inSize - 1);
      const i1 = Math.min(i0 + 1, inSize - 1);
      const l1 = f(src - i0);
      wts[row + i0] = (wts[row + i0] as number) + f(1 - l1);
      wts[row + i1] = (wts[row + i1] as number) + l1;
    } else {
      const src = f(f(scale * f(o + 0.5)) - 0.5);
      const i0 = Math.floor(src);
      const t = f(src - i0);
      const cw = cubicWeights(t, cubicA);
      for (let k = 0; k < 4; k++) {
        const idx = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
        wts[row + idx] = (wts[row + idx] as number) + (cw[k] as number);
      }
    }
  }
  return wts;
}

function cubicWeights(t: number, A: number): [number, number, number, number] {
  const c1 = (x: number) => ((A + 2) * x - (A + 3)) * x * x + 1; // |x| ≤ 1
  const c2 = (x: number) => ((A * x - 5 * A) * x + 8 * A) * x - 4 * A; // 1 < |x| < 2
  return [c2(t + 1), c1(t), c1(1 - t), c2(2 - t)];
}

/** Resizes x [N, C, H, W] to [N, C, outH, outW]. */
export function resize2d(x: Tensor, outH: number, outW: number, mode: ResizeMode): Tensor {
  if (x.rank !== 4) throw new Error(`resize2d: expected [N, C, H, W], got ${fmt(x.shape)}`);
  const dt = floatDType('resize2d', x);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const rh = weightTensor(resizeWeights(mode, h, outH), [outH, h], dt);
  const rw = weightTensor(resizeWeights(mode, w, outW), [outW, w], dt);
  const x3 = reshape(x, [n * c, h, w]);
  const t = matmul(rh, x3); // [NC, outH, W]
  const y = matmul(t, rw, { transB: true }); // [NC, outH, outW]
  return reshape(y, [n, c, outH, outW]);
}

function weightTensor(w: Float64Array, shape: [number, number], dt: 'float32' | 'float64'): Tensor {
  const [t, td] = alloc(shape, dt);
  td.set(w);
  return t;
}
