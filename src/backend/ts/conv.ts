// Reference conv2d (groups = 1) forward and backward as direct loops.

import type { Conv2dParams, F } from '../kernels.js';

export function conv2d(x: F, w: F, bias: F | null, out: F, p: Conv2dParams): void {
  const { n, cin, h, w: W, cout, kh, kw, strideH, strideW, padH, padW, oh, ow } = p;
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const ob = (b * cout + co) * oh * ow;
      const bv = bias ? (bias[co] as number) : 0;
      for (let i = 0; i < oh * ow; i++) out[ob + i] = bv;
      for (let ci = 0; ci < cin; ci++) {
        const xb = (b * cin + ci) * h * W;
        const wb = (co * cin + ci) * kh * kw;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const wv = w[wb + ky * kw + kx] as number;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * strideH - padH + ky;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * strideW - padW + kx;
                if (ix < 0 || ix >= W) continue;
                out[ob + oy * ow + ox] = (out[ob + oy * ow + ox] as number) + wv * (x[xb + iy * W + ix] as number);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dGradInput(dy: F, w: F, dx: F, p: Conv2dParams): void {
  const { n, cin, h, w: W, cout, kh, kw, strideH, strideW, padH, padW, oh, ow } = p;
  dx.fill(0);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const ob = (b * cout + co) * oh * ow;
      for (let ci = 0; ci < cin; ci++) {
        const xb = (b * cin + ci) * h * W;
        const wb = (co * cin + ci) * kh * kw;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const wv = w[wb + ky * kw + kx] as number;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * strideH - padH + ky;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * strideW - padW + kx;
                if (ix < 0 || ix >= W) continue;
                dx[xb + iy * W + ix] = (dx[xb + iy * W + ix] as number) + wv * (dy[ob + oy * ow + ox] as number);
              }
            }
          }
        }
      }
    }
  }
}

export function conv2dGradWeight(x: F, dy: F, dw: F, p: Conv2dParams): void {
  const { n, cin, h, w: W, cout, kh, kw, strideH, strideW, padH, padW, oh, ow } = p;
  dw.fill(0);
  for (let b = 0; b < n; b++) {
    for (let co = 0; co < cout; co++) {
      const ob = (b * cout + co) * oh * ow;
      for (let ci = 0; ci < cin; ci++) {
        const xb = (b * cin + ci) * h * W;
        const wb = (co * cin + ci) * kh * kw;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            let s = 0;
            for (let oy = 0; oy < oh; oy++) {
              const iy = oy * strideH - padH + ky;
              if (iy < 0 || iy >= h) continue;
              for (let ox = 0; ox < ow; ox++) {
                const ix = ox * strideW - padW + kx;
                if (ix < 0 || ix >= W) continue;
                s += (x[xb + iy * W + ix] as number) * (dy[ob + oy * ow + ox] as number);
              }
            }
            dw[wb + ky * kw + kx] = (dw[wb + ky * kw + kx] as number) + s;
          }
        }
      }
    }
  }
}
