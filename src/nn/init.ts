// In-place parameter initialisers (torch.nn.init) drawing from an explicit Rng. Each writes
// t.data and returns t; values are computed in float64 and stored in t's dtype. A draw of n
// values consumes exactly ceil(n / 4) Rng blocks, so initialisation is reproducible per seed.

import type { Module } from './module.js';
import type { Rng } from '../tensor/rng.js';
import { fmt } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

function floatData(op: string, t: Tensor): Float32Array | Float64Array {
  const d = t.data;
  if (d instanceof Int32Array)
    throw new Error(`${op}: expected a float tensor, got int32 ${fmt(t.shape)}`);
  return d;
}

export function constant_(t: Tensor, value: number): Tensor {
  t.data.fill(value);
  return t;
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** U(lo, hi). */
export function uniform_(t: Tensor, lo: number, hi: number, rng: Rng): Tensor {
  const d = floatData('uniform_', t);
  const u = rng.uniform(d.length);
  for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * (u[i] as number);
  return t;
}

/** N(mean, std²). */
export function normal_(t: Tensor, std: number, rng: Rng, mean = 0): Tensor {
  const d = floatData('normal_', t);
  const z = rng.normal(d.length, 'float64');
  for (let i = 0; i < d.length; i++) d[i] = mean + std * (z[i] as number);
  return t;
}

/** N(mean, std²) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_; default
 *  ±2·std around the mean). Inverse-CDF method, as torch: u ~ U(Φ(α), Φ(β)) with
 *  α = (a − mean)/std, β = (b − mean)/std, then x = mean + std·Φ⁻¹(u), clamped to [a, b].
 *  Exactly one uniform per element (no rejection loop), accurate to ~1e-15 in Φ⁻¹. */
export function truncNormal_(
  t: Tensor,
  std: number,
  rng: Rng,
  a = -2 * std,
  b = 2 * std,
  mean = 0,
): Tensor {
  if (!(std > 0) || !(a < b))
    throw new Error(`truncNormal_: need std > 0 and a < b, got std ${std}, [${a}, ${b}]`);
  const d = floatData('truncNormal_', t);
  const lo = normalCdf((a - mean) / std);
  const hi = normalCdf((b - mean) / std);
  const u = rng.uniform(d.length);
  for (let i = 0; i < d.length; i++) {
    const x = mean + std * normalQuantile(lo + (hi - lo) * (u[i] as number));
    d[i] = Math.min(Math.max(x, a), b);
  }
  return t;
}

/** (fanIn, fanOut) as torch: fanIn = shape[1]·receptive, fanOut = shape[0]·receptive, with
 *  receptive = Π shape[2:]. */
export function fans(t: Tensor): [number, number] {
  if (t.rank < 2)
    throw new Error(`fans: fan in and fan out need a tensor of rank ≥ 2, got ${fmt(t.shape)}`);
  const receptive = t.shape.slice(2).reduce((p, q) => p * q, 1);
  return [(t.shape[1] as number) * receptive, (t.shape[0] as number) * receptive];
}

export type Nonlinearity = 'linear' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu';

/** torch.nn.init.calculate_gain (param = negative slope of leaky_relu, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    default:
      return nonlinearity satisfies never;
  }
}

export interface KaimingOpts {
  /** Negative slope of the following leaky_relu (default 0). */
  readonly a?: number;
  readonly mode?: 'fan_in' | 'fan_out';
  readonly nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, opts: KaimingOpts): number {
  const [fanIn, fanOut] = fans(t);
  const fan = (opts.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  if (fan === 0) throw new Error(`${op}: tensor ${fmt(t.shape)} has zero fan`);
  return calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0) / Math.sqrt(fan);
}

/** torch.nn.init.kaiming_uniform_: U(−bound, bound), bound = gain·√(3 / fan). */
export function kaimingUniform_(t: Tensor, rng: Rng, opts: KaimingOpts = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, opts);
  return uniform_(t, -bound, bound, rng);
}

/** torch.nn.init.kaiming_normal_: N(0, gain² / fan). */
export function kaimingNormal_(t: Tensor, rng: Rng, opts: KaimingOpts = {}): Tensor {
  return normal_(t, kaimingStd('kaimingNormal_', t, opts), rng);
}

/** torch.nn.init.xavier_uniform_: U(−bound, bound), bound = gain·√(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, rng: Rng, gain = 1): Tensor {
  const [fanIn, fanOut] = fans(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound, rng);
}

/** torch.nn.init.xavier_normal_: N(0, gain² · 2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, rng: Rng, gain = 1): Tensor {
  const [fanIn, fanOut] = fans(t);
  return normal_(t, gain * Math.sqrt(2 / (fanIn + fanOut)), rng);
}

// ---- the standard normal CDF and its inverse, in float64 ---------------------------------

/** Φ(x), Hart's double-precision rational approximation (algorithm 5666, as given by
 *  G. West, "Better approximations to cumulative normal functions", 2005); |error| < 1e-14. */
export function normalCdf(x: number): number {
  const z = Math.abs(x);
  let c: number;
  if (z > 37) c = 0;
  else {
    const e = Math.exp((-z * z) / 2);
    if (z < 7.07106781186547) {
      let n = 3.52624965998911e-2 * z + 0.700383064443688;
      n = n * z + 6.37396220353165;
      n = n * z + 33.912866078383;
      n = n * z + 112.079291497871;
      n = n * z + 221.213596169931;
      n = n * z + 220.206867912376;
      let m = 8.83883476483184e-2 * z + 1.75566716318264;
      m = m * z + 16.064177579207;
      m = m * z + 86.7807322029461;
      m = m * z + 296.564248779674;
      m = m * z + 637.333633378831;
      m = m * z + 793.826512519948;
      m = m * z + 440.413735824752;
      c = (e * n) / m;
    } else {
      let m = z + 0.65;
      m = z + 4 / m;
      m = z + 3 / m;
      m = z + 2 / m;
      m = z + 1 / m;
      c = e / m / 2.506628274631;
    }
  }
  return x > 0 ? 1 - c : c;
}

const QA = [
  -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2,
  -3.066479806614716e1, 2.506628277459239,
];
const QB = [
  -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1,
  -1.328068155288572e1,
];
const QC = [
  -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734,
  4.374664141464968, 2.938163982698783,
];
const QD = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

function poly(c: readonly number[], x: number): number {
  let s = 0;
  for (const v of c) s = s * x + v;
  return s;
}

/** Φ⁻¹(p) for p in (0, 1): Acklam's rational approximation (relative error 1.2e-9) refined by
 *  one Halley step on Φ. Returns ±Infinity at p = 0 or 1. */
export function normalQuantile(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = poly(QC, q) / (poly(QD, q) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = (poly(QA, r) * q) / (poly(QB, r) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -poly(QC, q) / (poly(QD, q) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

// ---- random weights for tests, benchmarks and smoke runs (no checkpoint) ----------------------
// One rule table for every model, matched by official parameter name, in the spirit of the
// parity fixtures: embeddings N(0, 1), positions N(0, 0.3²), weights N(0, 1/fan_in), biases
// N(0, 0.1²), norm weights 1 + N(0, 0.1²), attention temperatures log 4 + N(0, 0.3²). Nothing
// is zero or identity-like.

export interface RandomInitOptions {
  /** Tile every tensor from one table of 65 537 normals at a random offset instead of drawing
   *  each value (benchmarks of full-size models: seconds instead of a minute; not for tests
   *  of statistics). */
  readonly fast?: boolean;
}

const TABLE = 65537;

/** Overwrites every parameter of m in place (buffers are left alone); returns m. */
export function randomInit_<M extends Module>(m: M, rng: Rng, opts: RandomInitOptions = {}): M {
  const table = opts.fast ? rng.normal(TABLE) : null;
  for (const [name, t] of m.namedParameters()) {
    const d = t.data;
    if (d instanceof Int32Array) continue;
    let mean = 0;
    let std: number;
    if (/(class_emb|lvl_embed|embedding)\.weight$/.test(name)) std = 1;
    else if (/pos_start$|pos_1LC$/.test(name)) std = 0.3;
    else if (name.endsWith('scale_mul_1H11')) {
      mean = Math.log(4);
      std = 0.3;
    } else if (/norm\w*\.weight$/.test(name)) {
      mean = 1;
      std = 0.1;
    } else if (name.endsWith('weight') && t.rank >= 2) {
      std = 1 / Math.sqrt(t.size / (t.shape[0] as number));
    } else std = 0.1;
    if (table) {
      let o = rng.randint(1, TABLE)[0] as number;
      for (let i = 0; i < d.length; i++) {
        d[i] = mean + std * (table[o] as number);
        o = o + 1 === TABLE ? 0 : o + 1;
      }
      continue;
    }
    const z = rng.normal(d.length);
    for (let i = 0; i < d.length; i++) d[i] = mean + std * (z[i] as number);
  }
  return m;
}

/** The fixtures' transformer scheme (LlamaGen GPT and its DD student): norm weights 1
 *  (+ N(0, normStd²)), embeddings N(0, 1), other weights N(0, 1/fan_in); `special` gives the
 *  std of tensors with their own rule (null: the default rules). Every tensor, buffers too. */
export function randomizeTransformer_<M extends Module>(
  model: M,
  rng: Rng,
  normStd = 0,
  special: (name: string, t: Tensor) => number | null = () => null,
): M {
  for (const [name, t] of model.namedTensors()) {
    const std = name.endsWith('norm.weight') ? null : special(name, t);
    if (name.endsWith('norm.weight')) {
      t.data.fill(1);
      if (normStd > 0) {
        const z = rng.normal(t.size);
        for (let i = 0; i < t.size; i++) t.data[i] = 1 + normStd * (z[i] as number);
      }
    } else if (std !== null) normal_(t, std, rng);
    else if (name.includes('embedding')) normal_(t, 1, rng);
    else normal_(t, 1 / Math.sqrt(t.shape[t.rank - 1] as number), rng);
  }
  return model;
}
