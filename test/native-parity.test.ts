// Every native kernel against its ts twin (the reference) on seeded random inputs with odd
// sizes, per-kernel tolerances, reporting the worst element and its index. GEMM runs at every
// SIMD level the CPU has. Skips (not fails) when the addon was not built.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import type {
  AttentionParams,
  Backend,
  Conv2dParams,
  F,
  MatmulParams,
} from '../src/backend/kernels.js';
import { BINARY_OPS, UNARY_OPS } from '../src/backend/kernels.js';
import {
  loadNativeBackend,
  nativeInfo,
  setNativeSimd,
  type SimdLevel,
} from '../src/backend/native/index.js';
import { referenceBackend } from '../src/backend/registry.js';

const native: Backend | null = loadNativeBackend();
const ref = referenceBackend();
const skip = native ? false : `native addon not available: ${nativeInfo().error ?? 'unknown'}`;
const info = nativeInfo();

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
let seed = 1;
function rand(n: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed++);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * r();
  return a;
}

/** Asserts |got − want| ≤ atol + rtol·|want| everywhere (equal infinities and NaNs pass). */
function close(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol = 0,
): void {
  assert.equal(got.length, want.length, `${what}: length`);
  let worst = 0;
  let wi = -1;
  let werr = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i] as number;
    const w = want[i] as number;
    if (g === w || (Number.isNaN(g) && Number.isNaN(w))) continue;
    const err = Math.abs(g - w);
    const ratio = Number.isNaN(err) ? Infinity : err / (atol + rtol * Math.abs(w));
    if (ratio > worst) [worst, wi, werr] = [ratio, i, err];
  }
  assert.ok(
    worst <= 1,
    `${what}: max error ${werr} at index ${wi} (got ${got[wi]}, want ${want[wi]}; atol ${atol}, rtol ${rtol})`,
  );
}

function nat(): Backend {
  if (!native) throw new Error('unreachable: test is skipped without the addon');
  return native;
}

const levels: SimdLevel[] = (['scalar', 'avx2', 'avx512'] as const).filter(
  (l) =>
    info.cpuSimd !== null &&
    ['scalar', 'avx2', 'avx512'].indexOf(l) <= ['scalar', 'avx2', 'avx512'].indexOf(info.cpuSimd),
);
after(() => {
  if (info.simd) setNativeSimd(info.simd);
});

describe('native vs ts: matmul', { skip }, () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [7, 33, 257],
    [257, 7, 33],
    [33, 257, 7],
    [1, 300, 129],
    [16, 65, 31],
    [17, 19, 300],
    [130, 70, 400],
    [3, 1000, 5],
    [2, 301, 770], // decode with CFG: 12-row dot blocks, a split over threads, k tail
    [4, 97, 65],
    [9, 50, 40],
  ];
  for (const level of levels) {
    test(`shapes × transposes × accumulate (${level})`, () => {
      assert.equal(setNativeSimd(level), level);
      for (const [m, n, k] of shapes)
        for (const transA of [false, true])
          for (const transB of [false, true])
            for (const accumulate of [false, true]) {
              const p: MatmulParams = {
                batch: 1,
                m,
                n,
                k,
                transA,
                transB,
                strideA: 0,
                strideB: 0,
                accumulate,
              };
              const a = rand(m * k);
              const b = rand(k * n);
              const init = rand(m * n);
              const got = init.slice();
              const want = init.slice();
              nat().matmul(a, b, got, p);
              ref.matmul(a, b, want, p);
              close(
                `matmul ${m}x${n}x${k} tA=${transA} tB=${transB} acc=${accumulate}`,
                got,
                want,
                3e-6 * (k + 4),
              );
            }
      if (info.simd) setNativeSimd(info.simd);
    });
  }
  test('batched with a broadcast operand (strideB = 0) and many small products', () => {
    for (const [batch, m, n, k, sa, sb] of [
      [3, 9, 17, 33, 9 * 33, 0],
      [40, 5, 6, 7, 35, 42],
      [2, 70, 40, 300, 0, 300 * 40],
    ] as const) {
      const p: MatmulParams = {
        batch,
        m,
        n,
        k,
        transA: false,
        transB: true,
        strideA: sa,
        strideB: sb,
        accumulate: false,
      };
      const a = rand(Math.max(1, (batch - 1) * sa + m * k));
      const b = rand(Math.max(1, (batch - 1) * sb + n * k));
      const got = new Float32Array(batch * m * n);
      const want = new Float32Array(batch * m * n);
      nat().matmul(a, b, got, p);
      ref.matmul(a, b, want, p);
      close(`batched matmul ${batch}x${m}x${n}x${k}`, got, want, 3e-6 * (k + 4));
    }
  });
  test('float64 is forwarded to the reference; short arrays throw an error naming the op', () => {
    const p: MatmulParams = {
      batch: 1,
      m: 3,
      n: 4,
      k: 5,
      transA: false,
      transB: false,
      strideA: 0,
      strideB: 0,
      accumulate: false,
    };
    const a = Float64Array.from(rand(15));
    const b = Float64Array.from(rand(20));
    const got = new Float64Array(12);
    const want = new Float64Array(12);
    nat().matmul(a, b, got, p);
    ref.matmul(a, b, want, p);
    assert.deepEqual(got, want);
    assert.throws(
      () => nat().matmul(rand(14), rand(20), new Float32Array(12), p),
      /\[matmul\] a: expected at least 15/,
    );
  });
});

function attnCases(): { name: string; p: AttentionParams }[] {
  const base = { biasStrideB: 0, biasStrideH: 0, bias: null, qLevel: null, kLevel: null } as const;
  const pos = (n: number, off = 0): Int32Array => Int32Array.from({ length: n }, (_, i) => i + off);
  const scales = Int32Array.from({ length: 41 }, (_, i) =>
    i < 1 ? 0 : i < 5 ? 1 : i < 14 ? 2 : 3,
  );
  return [
    {
      name: 'plain GQA kvCap',
      p: {
        ...base,
        batch: 2,
        heads: 4,
        kvHeads: 2,
        lq: 7,
        lk: 33,
        kvCap: 40,
        dim: 16,
        dimV: 8,
        scale: 0.25,
      },
    },
    {
      name: 'causal, blocks',
      p: {
        ...base,
        batch: 1,
        heads: 2,
        kvHeads: 2,
        lq: 130,
        lk: 300,
        kvCap: 300,
        dim: 33,
        dimV: 17,
        scale: 0.17,
        qLevel: pos(130, 170),
        kLevel: pos(300),
      },
    },
    {
      name: 'decode step',
      p: {
        ...base,
        batch: 2,
        heads: 3,
        kvHeads: 3,
        lq: 1,
        lk: 257,
        kvCap: 300,
        dim: 64,
        dimV: 64,
        scale: 0.125,
        qLevel: pos(1, 256),
        kLevel: pos(257),
      },
    },
    {
      name: 'VAR block-causal + bias',
      p: {
        ...base,
        batch: 2,
        heads: 2,
        kvHeads: 1,
        lq: 41,
        lk: 41,
        kvCap: 41,
        dim: 8,
        dimV: 8,
        scale: 0.3,
        qLevel: scales,
        kLevel: scales,
        bias: rand(2 * 41 * 41),
        biasStrideB: 0,
        biasStrideH: 41 * 41,
      },
    },
    {
      name: 'fully masked rows',
      p: {
        ...base,
        batch: 1,
        heads: 1,
        kvHeads: 1,
        lq: 5,
        lk: 9,
        kvCap: 9,
        dim: 4,
        dimV: 3,
        scale: 1,
        qLevel: Int32Array.from([-1, 0, 3, -5, 8]),
        kLevel: pos(9),
      },
    },
  ];
}

describe('native vs ts: attention', { skip }, () => {
  for (const { name, p } of attnCases()) {
    const q = rand(p.batch * p.heads * p.lq * p.dim);
    const k = rand(p.batch * p.kvHeads * p.kvCap * p.dim);
    const v = rand(p.batch * p.kvHeads * p.kvCap * p.dimV);
    const nOut = p.batch * p.heads * p.lq;
    test(`sdpa forward: ${name}`, () => {
      const [o1, o2] = [new Float32Array(nOut * p.dimV), new Float32Array(nOut * p.dimV)];
      const [l1, l2] = [new Float32Array(nOut), new Float32Array(nOut)];
      nat().sdpa(q, k, v, o1, l1, p);
      ref.sdpa(q, k, v, o2, l2, p);
      close(`sdpa out (${name})`, o1, o2, 2e-6, 1e-5);
      close(`sdpa lse (${name})`, l1, l2, 2e-6, 1e-5);
    });
    test(`sdpa backward: ${name}`, () => {
      const out = new Float32Array(nOut * p.dimV);
      const lse = new Float32Array(nOut);
      ref.sdpa(q, k, v, out, lse, p);
      const dout = rand(nOut * p.dimV);
      const mk = (): F[] => [
        new Float32Array(nOut * p.dim),
        new Float32Array(p.batch * p.kvHeads * p.lk * p.dim),
        new Float32Array(p.batch * p.kvHeads * p.lk * p.dimV),
        new Float32Array(nOut * p.lk),
      ];
      const [dq1, dk1, dv1, db1] = mk() as [F, F, F, F];
      const [dq2, dk2, dv2, db2] = mk() as [F, F, F, F];
      nat().sdpaBackward(q, k, v, out, lse, dout, dq1, dk1, dv1, db1, p);
      ref.sdpaBackward(q, k, v, out, lse, dout, dq2, dk2, dv2, db2, p);
      close(`dq (${name})`, dq1, dq2, 1e-5, 1e-4);
      close(`dk (${name})`, dk1, dk2, 1e-5, 1e-4);
      close(`dv (${name})`, dv1, dv2, 1e-5, 1e-4);
      close(`dBias (${name})`, db1, db2, 1e-5, 1e-4);
    });
  }
});

describe('native vs ts: rows (softmax, norms, rope)', { skip }, () => {
  const sizes: [number, number][] = [
    [1, 1],
    [7, 33],
    [3, 257],
    [5, 1000],
    [300, 7],
  ];
  test('softmax, logSoftmax, crossEntropy', () => {
    for (const [rows, n] of sizes) {
      const x = rand(rows * n, -8, 8);
      if (rows > 2) x.fill(-Infinity, n, 2 * n); // a fully masked row
      for (const kname of ['softmax', 'logSoftmax'] as const) {
        const [a, b] = [new Float32Array(rows * n), new Float32Array(rows * n)];
        nat()[kname](x, a, rows, n);
        ref[kname](x, b, rows, n);
        close(`${kname} ${rows}x${n}`, a, b, 1e-6, 2e-6);
      }
      const logits = rand(rows * n, -8, 8);
      const t = Int32Array.from({ length: rows }, (_, i) => (i === 1 ? -100 : (i * 7919) % n));
      const [l1, l2, s1, s2] = [rows, rows, rows, rows].map((r) => new Float32Array(r)) as [
        F,
        F,
        F,
        F,
      ];
      nat().crossEntropy(logits, t, -100, l1, s1, rows, n);
      ref.crossEntropy(logits, t, -100, l2, s2, rows, n);
      close(`crossEntropy loss ${rows}x${n}`, l1, l2, 2e-6, 2e-6);
      close(`crossEntropy lse ${rows}x${n}`, s1, s2, 2e-6, 2e-6);
    }
  });
  test('rmsNorm, layerNorm (with and without affine)', () => {
    for (const [rows, n] of sizes)
      for (const affine of [true, false]) {
        const x = rand(rows * n, -3, 5);
        const w = affine ? rand(n) : null;
        const b = affine ? rand(n) : null;
        const o = () =>
          [new Float32Array(rows * n), new Float32Array(rows), new Float32Array(rows)] as const;
        const [o1, m1, r1] = o();
        const [o2, m2, r2] = o();
        nat().rmsNorm(x, w, 1e-5, o1, r1, rows, n);
        ref.rmsNorm(x, w, 1e-5, o2, r2, rows, n);
        close(`rmsNorm ${rows}x${n}`, o1, o2, 1e-5, 1e-5);
        close(`rmsNorm rstd ${rows}x${n}`, r1, r2, 0, 1e-5);
        nat().layerNorm(x, w, b, 1e-5, o1, m1, r1, rows, n);
        ref.layerNorm(x, w, b, 1e-5, o2, m2, r2, rows, n);
        close(`layerNorm ${rows}x${n}`, o1, o2, 1e-5, 1e-4);
        close(`layerNorm mean ${rows}x${n}`, m1, m2, 1e-6, 1e-5);
        close(`layerNorm rstd ${rows}x${n}`, r1, r2, 0, 1e-4);
      }
  });
  test('groupNorm', () => {
    for (const [n, c, g, s] of [
      [2, 6, 3, 7],
      [1, 32, 8, 257],
      [3, 4, 1, 1],
    ] as const) {
      const x = rand(n * c * s, -2, 4);
      const [w, b] = [rand(c), rand(c)];
      const [o1, o2] = [new Float32Array(n * c * s), new Float32Array(n * c * s)];
      const [m1, m2, r1, r2] = [0, 0, 0, 0].map(() => new Float32Array(n * g)) as [F, F, F, F];
      nat().groupNorm(x, w, b, 1e-6, o1, m1, r1, n, c, g, s);
      ref.groupNorm(x, w, b, 1e-6, o2, m2, r2, n, c, g, s);
      close(`groupNorm ${n}x${c}x${s}/${g}`, o1, o2, 1e-5, 1e-4);
      close(`groupNorm mean`, m1, m2, 1e-6, 1e-5);
      close(`groupNorm rstd`, r1, r2, 0, 1e-4);
    }
  });
  test('rope forward and inverse', () => {
    for (const [batch, seq, heads, dim] of [
      [2, 7, 3, 8],
      [1, 33, 12, 64],
      [1, 1, 1, 2],
    ] as const)
      for (const inverse of [false, true]) {
        const x = rand(batch * seq * heads * dim);
        const table = rand(seq * dim);
        const [a, b] = [new Float32Array(x.length), new Float32Array(x.length)];
        nat().rope(x, table, a, { batch, seq, heads, dim, inverse });
        ref.rope(x, table, b, { batch, seq, heads, dim, inverse });
        close(`rope ${batch}x${seq}x${heads}x${dim} inv=${inverse}`, a, b, 1e-6, 1e-6);
      }
  });
});

describe('native vs ts: elementwise, reductions, layout', { skip }, () => {
  test('unary and unaryGrad, every op', () => {
    for (const op of UNARY_OPS) {
      const positive = op === 'log' || op === 'sqrt' || op === 'rsqrt' || op === 'recip';
      for (const n of [1, 7, 257, 40000]) {
        const x = positive ? rand(n, 0.05, 6) : rand(n, -6, 6);
        const [a, b] = [new Float32Array(n), new Float32Array(n)];
        nat().unary(op, x, a);
        ref.unary(op, x, b);
        close(`unary ${op} n=${n}`, a, b, 1e-6, 2e-6);
        const dy = rand(n);
        nat().unaryGrad(op, x, dy, a);
        ref.unaryGrad(op, x, dy, b);
        close(`unaryGrad ${op} n=${n}`, a, b, 1e-6, 5e-6);
      }
    }
  });
  test('binary: same shape, row broadcast, scalar, general strides', () => {
    const cases: { shape: number[]; as: number[]; bs: number[]; la: number; lb: number }[] = [
      { shape: [7, 33], as: [33, 1], bs: [33, 1], la: 231, lb: 231 },
      { shape: [300, 257], as: [257, 1], bs: [0, 1], la: 300 * 257, lb: 257 },
      { shape: [5, 7], as: [7, 1], bs: [0, 0], la: 35, lb: 1 },
      { shape: [3, 4, 5], as: [5, 0, 1], bs: [0, 1, 0], la: 15, lb: 4 },
      { shape: [4, 6], as: [1, 4], bs: [6, 1], la: 28, lb: 24 }, // a read transposed
      { shape: [], as: [], bs: [], la: 1, lb: 1 },
    ];
    for (const op of BINARY_OPS)
      for (const c of cases) {
        const a = op === 'pow' ? rand(c.la, 0.1, 3) : rand(c.la);
        const b = rand(c.lb, 0.2, 2);
        const n = c.shape.reduce((x, y) => x * y, 1);
        const [o1, o2] = [new Float32Array(n), new Float32Array(n)];
        const bc = { shape: c.shape, aStrides: c.as, bStrides: c.bs };
        nat().binary(op, a, b, o1, bc);
        ref.binary(op, a, b, o2, bc);
        close(`binary ${op} [${c.shape}]`, o1, o2, 1e-6, 1e-6);
      }
  });
  test('where', () => {
    const shape = [3, 4, 5];
    const cond = Int32Array.from({ length: 20 }, (_, i) => i % 3);
    const a = rand(60);
    const b = rand(5);
    const [o1, o2] = [new Float32Array(60), new Float32Array(60)];
    nat().where(cond, a, b, o1, shape, [0, 5, 1], [20, 5, 1], [0, 0, 1]);
    ref.where(cond, a, b, o2, shape, [0, 5, 1], [20, 5, 1], [0, 0, 1]);
    close('where', o1, o2, 0);
  });
  test('reduce and argmax over the middle axis', () => {
    for (const [outer, n, inner] of [
      [1, 1, 1],
      [7, 33, 1],
      [3, 257, 5],
      [2, 1000, 1],
      [1, 40000, 1],
    ] as const) {
      const x = rand(outer * n * inner, -4, 4);
      for (const op of ['sum', 'max', 'min'] as const) {
        const [a, b] = [new Float32Array(outer * inner), new Float32Array(outer * inner)];
        nat().reduce(op, x, a, outer, n, inner);
        ref.reduce(op, x, b, outer, n, inner);
        close(`reduce ${op} ${outer}x${n}x${inner}`, a, b, op === 'sum' ? 1e-6 * n : 0, 1e-6);
      }
      const [i1, i2] = [new Int32Array(outer * inner), new Int32Array(outer * inner)];
      nat().argmax(x, i1, outer, n, inner);
      ref.argmax(x, i2, outer, n, inner);
      assert.deepEqual(i1, i2, `argmax ${outer}x${n}x${inner}`);
    }
  });
  test('permute, gather, scatterAdd', () => {
    const perms: [number[], number[]][] = [
      [
        [2, 3, 4],
        [2, 0, 1],
      ],
      [
        [5, 7, 3, 2],
        [0, 2, 1, 3],
      ],
      [[33], [0]],
      [
        [4, 1, 6],
        [1, 2, 0],
      ],
    ];
    for (const [shape, perm] of perms) {
      const n = shape.reduce((x, y) => x * y, 1);
      const x = rand(n);
      const [a, b] = [new Float32Array(n), new Float32Array(n)];
      nat().permute(x, shape, perm, a);
      ref.permute(x, shape, perm, b);
      close(`permute [${shape}] by [${perm}]`, a, b, 0);
    }
    for (const [outer, len, inner] of [
      [1, 10, 7],
      [3, 5, 1],
      [2, 9, 33],
    ] as const) {
      const idx = Int32Array.from([0, len - 1, 2, 2, 1]);
      const x = rand(outer * len * inner);
      const [a, b] = [new Float32Array(outer * 5 * inner), new Float32Array(outer * 5 * inner)];
      nat().gather(x, idx, a, outer, len, inner);
      ref.gather(x, idx, b, outer, len, inner);
      close('gather', a, b, 0);
      const dx0 = rand(outer * len * inner);
      const [d1, d2] = [dx0.slice(), dx0.slice()];
      nat().scatterAdd(a, idx, d1, outer, len, inner);
      ref.scatterAdd(a, idx, d2, outer, len, inner);
      close('scatterAdd', d1, d2, 1e-6, 1e-6);
    }
  });
});

describe('native vs ts: conv2d', { skip }, () => {
  const conv = (
    n: number,
    cin: number,
    h: number,
    w: number,
    cout: number,
    kh: number,
    kw: number,
    s: number,
    pad: number,
  ): Conv2dParams => ({
    n,
    cin,
    h,
    w,
    cout,
    kh,
    kw,
    strideH: s,
    strideW: s,
    padH: pad,
    padW: pad,
    oh: Math.floor((h + 2 * pad - kh) / s) + 1,
    ow: Math.floor((w + 2 * pad - kw) / s) + 1,
  });
  const cases = [
    conv(2, 3, 9, 7, 5, 3, 3, 1, 1),
    conv(1, 4, 8, 8, 6, 3, 3, 2, 0),
    conv(2, 7, 5, 6, 3, 1, 1, 1, 0),
    conv(1, 2, 9, 9, 33, 4, 4, 2, 1),
    conv(1, 1, 3, 3, 1, 3, 3, 1, 0),
    conv(2, 3, 9, 37, 12, 3, 3, 1, 1),
    conv(1, 5, 6, 64, 10, 3, 3, 1, 1),
    conv(1, 3, 5, 5, 2, 3, 3, 1, 2),
    // VQ-decoder-like: panels span several 16-pixel rows, k split over KC blocks
    conv(1, 48, 16, 16, 40, 3, 3, 1, 1),
    // Winograd F(2×2, 3×3) forward (3×3 s1 p1, ≥ 32 channels, ≥ 128 tiles): odd sizes, clipped
    // edge tiles, tiles spanning B panels and tile rows, Cout not a multiple of MR, batch > 1.
    conv(2, 48, 16, 16, 40, 3, 3, 1, 1),
    conv(1, 33, 23, 37, 35, 3, 3, 1, 1),
    conv(1, 64, 31, 30, 32, 3, 3, 1, 1),
    conv(3, 32, 9, 11, 33, 3, 3, 1, 1),
  ];
  // Winograd changes the rounding. Measured max |native − ts| / (√K · rms(out)) (K = 9·Cin) on
  // random uniform inputs: ≤ 1.4e-7 at Cin = 48…512, the same as the im2col path's 1.0e-7…1.3e-7
  // (the ts reference's own float32 sums dominate); 1e-6 leaves a 7× margin.
  const winograd = (p: Conv2dParams) =>
    p.kh === 3 && p.kw === 3 && p.strideH === 1 && p.strideW === 1 && p.padH === 1 && p.padW === 1 &&
    p.cin >= 32 && p.cout >= 32 && p.n * Math.ceil(p.oh / 2) * Math.ceil(p.ow / 2) >= 128;
  for (const p of cases) {
    const name = `x[${p.n},${p.cin},${p.h},${p.w}] w[${p.cout},${p.cin},${p.kh},${p.kw}] s${p.strideH} p${p.padH}`;
    test(`forward and both backward kernels: ${name}`, () => {
      const x = rand(p.n * p.cin * p.h * p.w);
      const w = rand(p.cout * p.cin * p.kh * p.kw);
      const bias = rand(p.cout);
      const no = p.n * p.cout * p.oh * p.ow;
      const [o1, o2] = [new Float32Array(no), new Float32Array(no)];
      nat().conv2d(x, w, bias, o1, p);
      ref.conv2d(x, w, bias, o2, p);
      const k = p.cin * p.kh * p.kw;
      const rms = Math.sqrt(o2.reduce((s, v) => s + v * v, 0) / no);
      const tol = winograd(p) ? 1e-6 * Math.sqrt(k) * rms : 3e-6 * (k + 4);
      close(`conv2d ${name}`, o1, o2, tol);
      const dy = rand(no);
      const [dx1, dx2] = [new Float32Array(x.length), new Float32Array(x.length)];
      nat().conv2dGradInput(dy, w, dx1, p);
      ref.conv2dGradInput(dy, w, dx2, p);
      close(`conv2dGradInput ${name}`, dx1, dx2, 3e-6 * (p.cout * p.kh * p.kw + 4));
      const [dw1, dw2] = [new Float32Array(w.length), new Float32Array(w.length)];
      nat().conv2dGradWeight(x, dy, dw1, p);
      ref.conv2dGradWeight(x, dy, dw2, p);
      close(`conv2dGradWeight ${name}`, dw1, dw2, 3e-6 * (p.n * p.oh * p.ow + 4));
    });
  }
});
