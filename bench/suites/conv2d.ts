// Suite `conv2d`: 3×3 convolutions at LlamaGen VQ-16 decoder shapes (512 channels at 16² and
// 32², 256 at 64² and 128², 128 at 256², and the final 128→3 conv; VAR's VQVAE decoder: 640 at
// 16², 320 at 64² and 128², 160 at 256²), forward and the two backward kernels, in
// GFLOP/s (2·N·Cout·Cin·KH·KW·OH·OW per call, median of repetitions). The ts reference runs
// only the smallest shape; native rows carry its value as the reference.

import type { Backend, Conv2dParams } from '../../src/backend/kernels.js';
import { availableBackends } from '../backends.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { medianSeconds, randomF32 } from './gemm.js';

type Kind = 'fwd' | 'bwd-input' | 'bwd-weight';

function conv3(cin: number, cout: number, hw: number): Conv2dParams {
  return {
    n: 1,
    cin,
    h: hw,
    w: hw,
    cout,
    kh: 3,
    kw: 3,
    strideH: 1,
    strideW: 1,
    padH: 1,
    padW: 1,
    oh: hw,
    ow: hw,
  };
}

function shapes(quick: boolean): { name: string; p: Conv2dParams }[] {
  const list = [
    { name: '512→512 3×3 @16²', p: conv3(512, 512, 16) },
    { name: '256→256 3×3 @64²', p: conv3(256, 256, 64) },
    { name: '128→3 3×3 @256² (conv_out)', p: conv3(128, 3, 256) },
  ];
  return quick
    ? list.slice(0, 1)
    : [
        ...list,
        { name: '512→512 3×3 @32²', p: conv3(512, 512, 32) },
        { name: '256→256 3×3 @128²', p: conv3(256, 256, 128) },
        { name: '128→128 3×3 @256²', p: conv3(128, 128, 256) },
        // VAR VQVAE decoder
        { name: '640→640 3×3 @16²', p: conv3(640, 640, 16) },
        { name: '320→320 3×3 @64²', p: conv3(320, 320, 64) },
        { name: '320→320 3×3 @128²', p: conv3(320, 320, 128) },
        { name: '160→160 3×3 @256²', p: conv3(160, 160, 256) },
      ];
}

function gflops(b: Backend, p: Conv2dParams, kind: Kind, reps: number): number {
  const x = randomF32(p.n * p.cin * p.h * p.w, 1);
  const w = randomF32(p.cout * p.cin * p.kh * p.kw, 2);
  const bias = randomF32(p.cout, 3);
  const y = new Float32Array(p.n * p.cout * p.oh * p.ow);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  const fn =
    kind === 'fwd'
      ? () => b.conv2d(x, w, bias, y, p)
      : kind === 'bwd-input'
        ? () => b.conv2dGradInput(y, w, dx, p)
        : () => b.conv2dGradWeight(x, y, dw, p);
  const flops = 2 * p.n * p.cout * p.cin * p.kh * p.kw * p.oh * p.ow;
  return flops / medianSeconds(fn, reps) / 1e9;
}

export const suite: BenchSuite = {
  name: 'conv2d',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const list = shapes(quick);
    for (const [si, s] of list.entries())
      for (const kind of ['fwd', 'bwd-input', 'bwd-weight'] as const) {
        let ts: number | undefined;
        for (const b of availableBackends()) {
          if (b.name === 'ts' && si > 0) continue;
          const value = gflops(b, s.p, kind, b.name === 'ts' ? 1 : quick ? 3 : 5);
          if (b.name === 'ts') ts = value;
          const ref =
            b.name !== 'ts' && ts !== undefined ? { ref: { backend: 'ts', value: ts } } : {};
          rows.push({
            suite: 'conv2d',
            name: `${kind} ${s.name}`,
            backend: b.name,
            value,
            unit: 'GFLOP/s',
            ...ref,
          });
        }
      }
    return rows;
  },
};
