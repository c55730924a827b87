// Loads build/Release/ddar_native.node (built by node-gyp from native/ during `npm ci`) and
// checks that it exports every function this wrapper calls. Node-only.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Arr = Float32Array;
type OptArr = Float32Array | null;
type Ints = readonly number[];

/** The addon's exports; argument order mirrors native/addon.cc. */
export interface NativeAddon {
  info(): { simd: string; cpuSimd: string; threads: number };
  setSimd(level: number): void;
  matmul(
    a: Arr,
    b: Arr,
    out: Arr,
    batch: number,
    m: number,
    n: number,
    k: number,
    transA: boolean,
    transB: boolean,
    strideA: number,
    strideB: number,
    accumulate: boolean,
  ): void;
  sdpa(
    q: Arr,
    k: Arr,
    v: Arr,
    out: Arr,
    lse: OptArr,
    batch: number,
    heads: number,
    kvHeads: number,
    lq: number,
    lk: number,
    kvCap: number,
    dim: number,
    dimV: number,
    scale: number,
    qLevel: Int32Array | null,
    kLevel: Int32Array | null,
    bias: OptArr,
    biasStrideB: number,
    biasStrideH: number,
  ): void;
  sdpaBackward(
    q: Arr,
    k: Arr,
    v: Arr,
    out: Arr,
    lse: Arr,
    dout: Arr,
    dq: Arr,
    dk: Arr,
    dv: Arr,
    dBias: OptArr,
    batch: number,
    heads: number,
    kvHeads: number,
    lq: number,
    lk: number,
    kvCap: number,
    dim: number,
    dimV: number,
    scale: number,
    qLevel: Int32Array | null,
    kLevel: Int32Array | null,
    bias: OptArr,
    biasStrideB: number,
    biasStrideH: number,
  ): void;
  softmax(x: Arr, out: Arr, rows: number, n: number): void;
  logSoftmax(x: Arr, out: Arr, rows: number, n: number): void;
  crossEntropy(
    logits: Arr,
    targets: Int32Array,
    ignoreIndex: number,
    loss: Arr,
    lse: Arr,
    rows: number,
    n: number,
  ): void;
  rmsNorm(x: Arr, w: OptArr, eps: number, out: Arr, rstd: Arr, rows: number, n: number): void;
  layerNorm(
    x: Arr,
    w: OptArr,
    b: OptArr,
    eps: number,
    out: Arr,
    mean: Arr,
    rstd: Arr,
    rows: number,
    n: number,
  ): void;
  groupNorm(
    x: Arr,
    w: OptArr,
    b: OptArr,
    eps: number,
    out: Arr,
    mean: Arr,
    rstd: Arr,
    n: number,
    channels: number,
    groups: number,
    spatial: number,
  ): void;
  rope(
    x: Arr,
    table: Arr,
    out: Arr,
    batch: number,
    seq: number,
    heads: number,
    dim: number,
    inverse: boolean,
  ): void;
  unary(op: number, x: Arr, out: Arr): void;
  unaryGrad(op: number, x: Arr, dy: Arr, dx: Arr): void;
  binary(op: number, a: Arr, b: Arr, out: Arr, shape: Ints, aStrides: Ints, bStrides: Ints): void;
  where(
    cond: Int32Array,
    a: Arr,
    b: Arr,
    out: Arr,
    shape: Ints,
    cs: Ints,
    as: Ints,
    bs: Ints,
  ): void;
  reduce(op: number, x: Arr, out: Arr, outer: number, n: number, inner: number): void;
  argmax(x: Arr, out: Int32Array, outer: number, n: number, inner: number): void;
  permute(x: Arr, shape: Ints, perm: Ints, out: Arr): void;
  gather(x: Arr, idx: Int32Array, out: Arr, outer: number, axisLen: number, inner: number): void;
  scatterAdd(
    dy: Arr,
    idx: Int32Array,
    dx: Arr,
    outer: number,
    axisLen: number,
    inner: number,
  ): void;
  conv2d(x: Arr, w: Arr, bias: OptArr, out: Arr, ...sizes: number[]): void;
  conv2dGradInput(dy: Arr, w: Arr, dx: Arr, ...sizes: number[]): void;
  conv2dGradWeight(x: Arr, dy: Arr, dw: Arr, ...sizes: number[]): void;
  flowMap(
    rowStart: Int32Array,
    idx: Int32Array,
    logp: Float64Array,
    codebook: Arr,
    noise: Arr,
    times: Float64Array,
    tokens: Int32Array,
    endpoints: Arr,
    finalWeight: Arr,
    rows: number,
    d: number,
    steps: number,
    heun: boolean,
    pruneNats: number,
  ): void;
  /** fdlibm exp of every element (the flow map's exp; tests compare it with Math.exp). */
  exp64(input: Float64Array, out: Float64Array): void;
}

const FUNCTIONS = [
  'info',
  'setSimd',
  'matmul',
  'sdpa',
  'sdpaBackward',
  'softmax',
  'logSoftmax',
  'crossEntropy',
  'rmsNorm',
  'layerNorm',
  'groupNorm',
  'rope',
  'unary',
  'unaryGrad',
  'binary',
  'where',
  'reduce',
  'argmax',
  'permute',
  'gather',
  'scatterAdd',
  'conv2d',
  'conv2dGradInput',
  'conv2dGradWeight',
] as const satisfies readonly (keyof NativeAddon)[];

function isAddon(x: unknown): x is NativeAddon {
  if (typeof x !== 'object' || x === null) return false;
  return FUNCTIONS.every((f) => typeof Reflect.get(x, f) === 'function');
}

export type AddonLoad =
  { readonly addon: NativeAddon; readonly path: string } | { readonly error: string };

/** Finds build/Release/ddar_native.node above this file (src/ or dist/src/) and loads it. */
export function loadAddon(): AddonLoad {
  if (process.env['DDAR_SKIP_NATIVE'] === '1') return { error: 'DDAR_SKIP_NATIVE=1' };
  let dir = dirname(fileURLToPath(import.meta.url));
  let path: string | null = null;
  for (let i = 0; i < 6 && path === null; i++) {
    const p = join(dir, 'build', 'Release', 'ddar_native.node');
    if (existsSync(p)) path = p;
    dir = dirname(dir);
  }
  if (path === null)
    return { error: 'build/Release/ddar_native.node not found (the addon was not built)' };
  try {
    const mod: unknown = createRequire(import.meta.url)(path);
    if (!isAddon(mod))
      return { error: `${path} does not export the expected functions (stale build?)` };
    return { addon: mod, path };
  } catch (e) {
    return { error: `loading ${path} failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}
