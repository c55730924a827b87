// The `native` backend: C++ kernels (native/, an N-API addon) behind the Kernels interface.
// Every kernel runs natively on Float32Array data and forwards Float64Array calls (float64
// gradient checks) and cases it does not handle (rank > 16) to the reference backend.

import type {
  AttentionParams,
  Backend,
  BinaryOp,
  Broadcast,
  Conv2dParams,
  F,
  KernelName,
  MatmulParams,
  RopeParams,
  UnaryOp,
} from '../kernels.js';
import { BINARY_OPS, UNARY_OPS } from '../kernels.js';
import { referenceBackend } from '../registry.js';
import { type NativeAddon, loadAddon } from './addon.js';

export type SimdLevel = 'scalar' | 'avx2' | 'avx512';
const LEVELS: readonly SimdLevel[] = ['scalar', 'avx2', 'avx512'];

export interface NativeInfo {
  readonly loaded: boolean;
  /** Instruction set in use, and the best this CPU supports (null when not loaded). */
  readonly simd: SimdLevel | null;
  readonly cpuSimd: SimdLevel | null;
  /** Threads of the addon's pool (DDAR_THREADS, read once at load, or the core count). */
  readonly threads: number | null;
  readonly path: string | null;
  /** Why the addon is unavailable (null when loaded). */
  readonly error: string | null;
}

let cached: { addon: NativeAddon; path: string } | { error: string } | undefined;

function addonLoad(): { addon: NativeAddon; path: string } | { error: string } {
  cached ??= loadAddon();
  return cached;
}

function level(s: string): SimdLevel {
  const l = LEVELS.find((x) => x === s);
  if (!l) throw new Error(`native addon reported an unknown SIMD level '${s}'`);
  return l;
}

export function nativeInfo(): NativeInfo {
  const r = addonLoad();
  if ('error' in r)
    return { loaded: false, simd: null, cpuSimd: null, threads: null, path: null, error: r.error };
  const i = r.addon.info();
  return {
    loaded: true,
    simd: level(i.simd),
    cpuSimd: level(i.cpuSimd),
    threads: i.threads,
    path: r.path,
    error: null,
  };
}

/** fdlibm exp (the native flow map's exp) of every element, or null without the addon. */
export function nativeExp64(input: Float64Array): Float64Array | null {
  const r = addonLoad();
  if ('error' in r) return null;
  const out = new Float64Array(input.length);
  r.addon.exp64(input, out);
  return out;
}

/** Lowers (or restores) the instruction set the addon uses, capped at what the CPU has; for
 *  tests and benchmarks that compare the code paths. Returns the level now in use. */
export function setNativeSimd(l: SimdLevel): SimdLevel | null {
  const r = addonLoad();
  if ('error' in r) return null;
  r.addon.setSimd(LEVELS.indexOf(l));
  return level(r.addon.info().simd);
}

const NATIVE_KERNELS: ReadonlySet<KernelName> = new Set<KernelName>([
  'unary',
  'unaryGrad',
  'binary',
  'reduce',
  'argmax',
  'matmul',
  'softmax',
  'logSoftmax',
  'crossEntropy',
  'rmsNorm',
  'layerNorm',
  'groupNorm',
  'permute',
  'gather',
  'scatterAdd',
  'where',
  'conv2d',
  'conv2dGradInput',
  'conv2dGradWeight',
  'sdpa',
  'sdpaBackward',
  'rope',
  'flowMap',
]);

const MAX_RANK = 16;
const unaryIndex = new Map<UnaryOp, number>(UNARY_OPS.map((op, i) => [op, i]));
const binaryIndex = new Map<BinaryOp, number>(BINARY_OPS.map((op, i) => [op, i]));
const REDUCE_INDEX = { sum: 0, max: 1, min: 2 } as const;

function isF32(x: F | null): x is Float32Array | null {
  return x === null || x instanceof Float32Array;
}

function opIndex<K>(map: ReadonlyMap<K, number>, op: K): number {
  const i = map.get(op);
  if (i === undefined) throw new Error(`native: unknown op '${String(op)}'`);
  return i;
}

function convSizes(p: Conv2dParams): number[] {
  return [
    p.n,
    p.cin,
    p.h,
    p.w,
    p.cout,
    p.kh,
    p.kw,
    p.strideH,
    p.strideW,
    p.padH,
    p.padW,
    p.oh,
    p.ow,
  ];
}

/** The native backend, or null when the addon did not load (see nativeInfo().error). */
export function loadNativeBackend(): Backend | null {
  const r = addonLoad();
  if ('error' in r) return null;
  const n = r.addon;
  const ref = referenceBackend();
  return {
    ...ref,
    name: 'native',
    supports: (kernel, dtype) => dtype === 'float32' && NATIVE_KERNELS.has(kernel),
    unary(op: UnaryOp, x: F, out: F): void {
      if (x instanceof Float32Array && out instanceof Float32Array)
        n.unary(opIndex(unaryIndex, op), x, out);
      else ref.unary(op, x, out);
    },
    unaryGrad(op: UnaryOp, x: F, dy: F, dx: F): void {
      if (x instanceof Float32Array && dy instanceof Float32Array && dx instanceof Float32Array)
        n.unaryGrad(opIndex(unaryIndex, op), x, dy, dx);
      else ref.unaryGrad(op, x, dy, dx);
    },
    binary(op: BinaryOp, a: F, b: F, out: F, bc: Broadcast): void {
      if (
        a instanceof Float32Array &&
        b instanceof Float32Array &&
        out instanceof Float32Array &&
        bc.shape.length <= MAX_RANK
      )
        n.binary(opIndex(binaryIndex, op), a, b, out, bc.shape, bc.aStrides, bc.bStrides);
      else ref.binary(op, a, b, out, bc);
    },
    reduce(op, x, out, outer, len, inner): void {
      if (x instanceof Float32Array && out instanceof Float32Array)
        n.reduce(REDUCE_INDEX[op], x, out, outer, len, inner);
      else ref.reduce(op, x, out, outer, len, inner);
    },
    argmax(x, out, outer, len, inner): void {
      if (x instanceof Float32Array) n.argmax(x, out, outer, len, inner);
      else ref.argmax(x, out, outer, len, inner);
    },
    matmul(a: F, b: F, out: F, p: MatmulParams): void {
      if (a instanceof Float32Array && b instanceof Float32Array && out instanceof Float32Array)
        n.matmul(
          a,
          b,
          out,
          p.batch,
          p.m,
          p.n,
          p.k,
          p.transA,
          p.transB,
          p.strideA,
          p.strideB,
          p.accumulate,
        );
      else ref.matmul(a, b, out, p);
    },
    softmax(x, out, rows, len): void {
      if (x instanceof Float32Array && out instanceof Float32Array) n.softmax(x, out, rows, len);
      else ref.softmax(x, out, rows, len);
    },
    logSoftmax(x, out, rows, len): void {
      if (x instanceof Float32Array && out instanceof Float32Array) n.logSoftmax(x, out, rows, len);
      else ref.logSoftmax(x, out, rows, len);
    },
    crossEntropy(logits, targets, ignoreIndex, loss, lse, rows, len): void {
      if (
        logits instanceof Float32Array &&
        loss instanceof Float32Array &&
        lse instanceof Float32Array
      )
        n.crossEntropy(logits, targets, ignoreIndex, loss, lse, rows, len);
      else ref.crossEntropy(logits, targets, ignoreIndex, loss, lse, rows, len);
    },
    rmsNorm(x, weight, eps, out, rstd, rows, len): void {
      if (
        x instanceof Float32Array &&
        isF32(weight) &&
        out instanceof Float32Array &&
        rstd instanceof Float32Array
      )
        n.rmsNorm(x, weight, eps, out, rstd, rows, len);
      else ref.rmsNorm(x, weight, eps, out, rstd, rows, len);
    },
    layerNorm(x, weight, bias, eps, out, mean, rstd, rows, len): void {
      if (
        x instanceof Float32Array &&
        isF32(weight) &&
        isF32(bias) &&
        out instanceof Float32Array &&
        mean instanceof Float32Array &&
        rstd instanceof Float32Array
      )
        n.layerNorm(x, weight, bias, eps, out, mean, rstd, rows, len);
      else ref.layerNorm(x, weight, bias, eps, out, mean, rstd, rows, len);
    },
    groupNorm(x, weight, bias, eps, out, mean, rstd, batch, channels, groups, spatial): void {
      if (
        x instanceof Float32Array &&
        isF32(weight) &&
        isF32(bias) &&
        out instanceof Float32Array &&
        mean instanceof Float32Array &&
        rstd instanceof Float32Array
      )
        n.groupNorm(x, weight, bias, eps, out, mean, rstd, batch, channels, groups, spatial);
      else ref.groupNorm(x, weight, bias, eps, out, mean, rstd, batch, channels, groups, spatial);
    },
    permute(x, shape, perm, out): void {
      if (x instanceof Float32Array && out instanceof Float32Array && shape.length <= MAX_RANK)
        n.permute(x, shape, perm, out);
      else ref.permute(x, shape, perm, out);
    },
    gather(x, idx, out, outer, axisLen, inner): void {
      if (x instanceof Float32Array && out instanceof Float32Array)
        n.gather(x, idx, out, outer, axisLen, inner);
      else ref.gather(x, idx, out, outer, axisLen, inner);
    },
    scatterAdd(dy, idx, dx, outer, axisLen, inner): void {
      if (dy instanceof Float32Array && dx instanceof Float32Array)
        n.scatterAdd(dy, idx, dx, outer, axisLen, inner);
      else ref.scatterAdd(dy, idx, dx, outer, axisLen, inner);
    },
    where(cond, a, b, out, shape, cs, as, bs): void {
      if (
        a instanceof Float32Array &&
        b instanceof Float32Array &&
        out instanceof Float32Array &&
        shape.length <= MAX_RANK
      )
        n.where(cond, a, b, out, shape, cs, as, bs);
      else ref.where(cond, a, b, out, shape, cs, as, bs);
    },
    conv2d(x, w, bias, out, p): void {
      if (
        x instanceof Float32Array &&
        w instanceof Float32Array &&
        isF32(bias) &&
        out instanceof Float32Array
      )
        n.conv2d(x, w, bias, out, ...convSizes(p));
      else ref.conv2d(x, w, bias, out, p);
    },
    conv2dGradInput(dy, w, dx, p): void {
      if (dy instanceof Float32Array && w instanceof Float32Array && dx instanceof Float32Array)
        n.conv2dGradInput(dy, w, dx, ...convSizes(p));
      else ref.conv2dGradInput(dy, w, dx, p);
    },
    conv2dGradWeight(x, dy, dw, p): void {
      if (x instanceof Float32Array && dy instanceof Float32Array && dw instanceof Float32Array)
        n.conv2dGradWeight(x, dy, dw, ...convSizes(p));
      else ref.conv2dGradWeight(x, dy, dw, p);
    },
    sdpa(q: F, k: F, v: F, out: F, lse: F | null, p: AttentionParams): void {
      if (
        q instanceof Float32Array &&
        k instanceof Float32Array &&
        v instanceof Float32Array &&
        out instanceof Float32Array &&
        isF32(lse) &&
        isF32(p.bias)
      )
        n.sdpa(
          q,
          k,
          v,
          out,
          lse,
          p.batch,
          p.heads,
          p.kvHeads,
          p.lq,
          p.lk,
          p.kvCap,
          p.dim,
          p.dimV,
          p.scale,
          p.qLevel,
          p.kLevel,
          p.bias,
          p.biasStrideB,
          p.biasStrideH,
        );
      else ref.sdpa(q, k, v, out, lse, p);
    },
    sdpaBackward(q, k, v, out, lse, dout, dq, dk, dv, dBias, p): void {
      if (
        q instanceof Float32Array &&
        k instanceof Float32Array &&
        v instanceof Float32Array &&
        out instanceof Float32Array &&
        lse instanceof Float32Array &&
        dout instanceof Float32Array &&
        dq instanceof Float32Array &&
        dk instanceof Float32Array &&
        dv instanceof Float32Array &&
        isF32(dBias) &&
        isF32(p.bias)
      )
        n.sdpaBackward(
          q,
          k,
          v,
          out,
          lse,
          dout,
          dq,
          dk,
          dv,
          dBias,
          p.batch,
          p.heads,
          p.kvHeads,
          p.lq,
          p.lk,
          p.kvCap,
          p.dim,
          p.dimV,
          p.scale,
          p.qLevel,
          p.kLevel,
          p.bias,
          p.biasStrideB,
          p.biasStrideH,
        );
      else ref.sdpaBackward(q, k, v, out, lse, dout, dq, dk, dv, dBias, p);
    },
    rope(x: F, table: F, out: F, p: RopeParams): void {
      if (x instanceof Float32Array && table instanceof Float32Array && out instanceof Float32Array)
        n.rope(x, table, out, p.batch, p.seq, p.heads, p.dim, p.inverse);
      else ref.rope(x, table, out, p);
    },
    flowMap(rowStart, idx, logp, codebook, noise, times, tokens, endpoints, finalWeight, p) {
      n.flowMap(rowStart, idx, logp, codebook, noise, times, tokens, endpoints, finalWeight, p.rows, p.d, p.steps, p.heun, p.pruneNats);
    },
  };
}
