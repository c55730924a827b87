// The kernel interface: every compute primitive the tensor layer executes. A backend is an
// object implementing `Kernels`. Kernels take typed arrays and sizes (the TS op layer has
// validated shapes and computed sizes), read their inputs and write into caller-allocated
// outputs. They never allocate results and never keep references to their arguments.
//
// Layouts are contiguous row-major unless a parameter says otherwise.
// `F` arrays are Float32Array (all backends) or Float64Array (the `ts` backend only; used by
// float64 gradient checks). A backend that cannot run a call returns false from `supports`,
// and the registry routes that call to the `ts` kernels.

export type F = Float32Array | Float64Array;

export const UNARY_OPS = [
  'neg',
  'abs',
  'exp',
  'log',
  'sqrt',
  'rsqrt',
  'tanh',
  'sigmoid',
  'silu',
  'gelu', // exact: x * Phi(x), Phi via erf
  'gelu_tanh', // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  'relu',
  'square',
  'recip',
  'sin',
  'cos',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'max', 'min', 'pow'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Broadcast description: out has shape `shape`; element at multi-index i reads
 *  a[sum(i_k * aStrides[k])] and b[sum(i_k * bStrides[k])] (stride 0 = broadcast axis). */
export interface Broadcast {
  readonly shape: readonly number[];
  readonly aStrides: readonly number[];
  readonly bStrides: readonly number[];
}

/** Batched GEMM: for t in [0, batch): out[t] (m×n) = op(A[t]) (m×k) · op(B[t]) (k×n), where
 *  A[t] starts at a[t*strideA], B[t] at b[t*strideB] (stride 0 broadcasts one matrix),
 *  op(A) = Aᵀ when transA (A[t] stored k×m) and likewise for B (stored n×k when transB).
 *  out is contiguous [batch, m, n] and is overwritten (or accumulated into when accumulate). */
export interface MatmulParams {
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly transA: boolean;
  readonly transB: boolean;
  readonly strideA: number;
  readonly strideB: number;
  readonly accumulate: boolean;
}

/** conv2d with groups = 1. x [N, Cin, H, W], w [Cout, Cin, KH, KW], out [N, Cout, OH, OW]. */
export interface Conv2dParams {
  readonly n: number;
  readonly cin: number;
  readonly h: number;
  readonly w: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly strideH: number;
  readonly strideW: number;
  readonly padH: number;
  readonly padW: number;
  readonly oh: number;
  readonly ow: number;
}

/** Scaled dot-product attention.
 *  q [B, H, Lq, D]; k [B, Hkv, kvCap, D]; v [B, Hkv, kvCap, Dv]; only the first Lk rows of each
 *  k/v head are read (kvCap ≥ Lk lets a KV cache be attended in place). out [B, H, Lq, Dv].
 *  Query head h uses kv head floor(h / (H / Hkv)) (each kv head serves consecutive q heads).
 *  scores = scale · q·kᵀ (+ bias) ; masked where kLevel[j] > qLevel[i] (when both are given):
 *  causal attention is qLevel = positions of the queries, kLevel = positions of the keys;
 *  VAR's block-causal mask uses scale indices as levels.
 *  bias (additive), when given, is read at bias[b*biasStrideB + h*biasStrideH + i*Lk + j].
 *  lse (optional output, [B, H, Lq]) receives the log-sum-exp of each masked score row, which
 *  the backward kernel reuses. A row with every key masked yields zeros and lse = -Infinity. */
export interface AttentionParams {
  readonly batch: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly lq: number;
  readonly lk: number;
  readonly kvCap: number;
  readonly dim: number;
  readonly dimV: number;
  readonly scale: number;
  readonly qLevel: Int32Array | null;
  readonly kLevel: Int32Array | null;
  readonly bias: F | null;
  readonly biasStrideB: number;
  readonly biasStrideH: number;
}

/** Rotary embedding over interleaved pairs. x [B, L, H, D] (D even); table [L, D/2, 2] holds
 *  (cos, sin) for every position and pair: out[.., 2i] = x0 cos − x1 sin, out[.., 2i+1] =
 *  x0 sin + x1 cos. inverse = true rotates by −angle (the vector-Jacobian product). */
export interface RopeParams {
  readonly batch: number;
  readonly seq: number;
  readonly heads: number;
  readonly dim: number;
  readonly inverse: boolean;
}

/** The DD flow map over compact supports (see src/dd/flow.ts). */
export interface FlowMapParams {
  readonly rows: number;
  readonly d: number;
  /** Integration steps n; times has n + 1 entries from 0 to 1. */
  readonly steps: number;
  /** Heun (corrector on every step but the last) instead of Euler, both in x1-prediction form. */
  readonly heun: boolean;
  /** Entries whose log-weight falls this far below the row's largest are dropped. */
  readonly pruneNats: number;
}

export interface Kernels {
  readonly name: string;
  /** False when this backend cannot run the call (e.g. float64 on `native`). */
  supports(kernel: keyof KernelFns, dtype: 'float32' | 'float64'): boolean;
}

export interface KernelFns {
  unary(op: UnaryOp, x: F, out: F): void;
  /** dx = dy · f'(x) for the unary op f. */
  unaryGrad(op: UnaryOp, x: F, dy: F, dx: F): void;
  binary(op: BinaryOp, a: F, b: F, out: F, bc: Broadcast): void;
  /** Reduce the middle axis of x viewed as [outer, n, inner] into out [outer, inner]. */
  reduce(op: 'sum' | 'max' | 'min', x: F, out: F, outer: number, n: number, inner: number): void;
  argmax(x: F, out: Int32Array, outer: number, n: number, inner: number): void;
  matmul(a: F, b: F, out: F, p: MatmulParams): void;
  /** Row-wise over x viewed as [rows, n]. */
  softmax(x: F, out: F, rows: number, n: number): void;
  logSoftmax(x: F, out: F, rows: number, n: number): void;
  /** Per-row loss = logsumexp(row) − row[target]; rows whose target equals ignoreIndex give 0.
   *  lse [rows] receives each row's log-sum-exp. Targets out of [0, n) (other than ignoreIndex)
   *  are the caller's responsibility to reject. */
  crossEntropy(
    logits: F,
    targets: Int32Array,
    ignoreIndex: number,
    loss: F,
    lse: F,
    rows: number,
    n: number,
  ): void;
  /** out = x · rsqrt(mean(x²) + eps) · weight; rstd [rows] receives rsqrt(mean(x²)+eps). */
  rmsNorm(x: F, weight: F | null, eps: number, out: F, rstd: F, rows: number, n: number): void;
  /** out = (x − mean) · rstd · weight + bias; mean, rstd [rows]. */
  layerNorm(
    x: F,
    weight: F | null,
    bias: F | null,
    eps: number,
    out: F,
    mean: F,
    rstd: F,
    rows: number,
    n: number,
  ): void;
  /** x [N, C, S]; statistics per (sample, group of C/groups channels); mean, rstd [N, groups];
   *  weight/bias per channel. */
  groupNorm(
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
  ): void;
  /** out = x permuted: out axis i is input axis perm[i]. */
  permute(x: F, shape: readonly number[], perm: readonly number[], out: F): void;
  /** x viewed as [outer, axisLen, inner]; out [outer, idx.length, inner]:
   *  out[o, i, r] = x[o, idx[i], r]. Indices are validated by the caller. */
  gather(x: F, idx: Int32Array, out: F, outer: number, axisLen: number, inner: number): void;
  /** dx[o, idx[i], r] += dy[o, i, r] (dx is accumulated into, not cleared). */
  scatterAdd(dy: F, idx: Int32Array, dx: F, outer: number, axisLen: number, inner: number): void;
  /** out[i] = cond[ci] != 0 ? a[ai] : b[bi], with the three broadcast onto `shape`. */
  where(
    cond: Int32Array,
    a: F,
    b: F,
    out: F,
    shape: readonly number[],
    condStrides: readonly number[],
    aStrides: readonly number[],
    bStrides: readonly number[],
  ): void;
  conv2d(x: F, w: F, bias: F | null, out: F, p: Conv2dParams): void;
  /** dx [N, Cin, H, W] (overwritten) from dy [N, Cout, OH, OW] and w. */
  conv2dGradInput(dy: F, w: F, dx: F, p: Conv2dParams): void;
  /** dw [Cout, Cin, KH, KW] (overwritten) from x and dy. */
  conv2dGradWeight(x: F, dy: F, dw: F, p: Conv2dParams): void;
  sdpa(q: F, k: F, v: F, out: F, lse: F | null, p: AttentionParams): void;
  /** Gradients of sdpa: dq [B,H,Lq,D], dk [B,Hkv,Lk,D], dv [B,Hkv,Lk,Dv] (overwritten; k/v
   *  gradients use kvCap = Lk, i.e. dense). lse is the forward's. dBias, when given, receives
   *  the gradient of the additive bias, laid out [B, H, Lq, Lk] (dense). */
  sdpaBackward(
    q: F,
    k: F,
    v: F,
    out: F,
    lse: F,
    dout: F,
    dq: F,
    dk: F,
    dv: F,
    dBias: F | null,
    p: AttentionParams,
  ): void;
  rope(x: F, table: F, out: F, p: RopeParams): void;
  /** Row r integrates from noise[r·d …] over support entries rowStart[r] … rowStart[r+1]−1
   *  (codebook rows idx[e] with log-probabilities logp[e]); writes the landing token, the end
   *  point [rows, d] and the final posterior weight of the chosen entry. Results must be
   *  bit-identical across backends (float64 arithmetic in the reference's order). */
  flowMap(
    rowStart: Int32Array,
    idx: Int32Array,
    logp: Float64Array,
    codebook: Float32Array,
    noise: Float32Array,
    times: Float64Array,
    tokens: Int32Array,
    endpoints: Float32Array,
    finalWeight: Float32Array,
    p: FlowMapParams,
  ): void;
}

export type Backend = Kernels & KernelFns;
export type KernelName = keyof KernelFns;
