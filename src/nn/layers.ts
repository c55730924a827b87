// Basic layers with torch.nn names and parameter layouts, so official checkpoints load by name:
// Linear, Embedding, RMSNorm, LayerNorm, GroupNorm, Conv2d, Dropout.
// Parameters are allocated as zeros (norm weights as ones): a model that loads a checkpoint
// pays nothing for random initialisation. `resetParameters(rng)` applies torch's default
// initialisation where a layer is trained from scratch.
// Letters: N batch, C channels, H/W height/width, in/out features, V vocabulary, D dimension.

import { Rng } from '../tensor/rng.js';
import { fmt } from '../tensor/shape.js';
import { Tensor, ones, zeros } from '../tensor/tensor.js';
import { add, mul } from '../tensor/ops/elementwise.js';
import { embedding, reshape } from '../tensor/ops/layout.js';
import { matmul } from '../tensor/ops/matmul.js';
import { groupNorm, layerNorm, rmsNorm } from '../tensor/ops/norm.js';
import { conv2d } from '../tensor/ops/conv.js';
import { Module, param } from './module.js';
import { kaimingUniform_, normal_, uniform_ } from './init.js';

/** y = x · Wᵀ + b, as torch.nn.Linear. */
export class Linear extends Module {
  weight: Tensor; // [out, in]
  bias: Tensor | null; // [out]
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: { bias?: boolean } = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = param(zeros([outFeatures, inFeatures]));
    this.bias = (opts.bias ?? true) ? param(zeros([outFeatures])) : null;
  }

  /** x [..., in] → [..., out] */
  forward(x: Tensor): Tensor {
    const inF = this.inFeatures;
    if (x.rank < 1 || x.shape[x.rank - 1] !== inF) {
      throw new Error(`Linear: expected input [..., ${inF}], got ${fmt(x.shape)}`);
    }
    // One 2-D product over all rows (its weight gradient is then a single gᵀ·x).
    const rows = reshape(x, [-1, inF]); // [R, in]
    let y = matmul(rows, this.weight, { transB: true }); // [R, out]
    if (this.bias) y = add(y, this.bias);
    return reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
  }

  /** torch's default: W, b ~ U(−1/√in, 1/√in) (kaiming_uniform_ with a = √5). */
  resetParameters(rng: Rng): this {
    kaimingUniform_(this.weight, rng, { a: Math.sqrt(5) });
    if (this.bias)
      uniform_(this.bias, -1 / Math.sqrt(this.inFeatures), 1 / Math.sqrt(this.inFeatures), rng);
    return this;
  }
}

/** Lookup table weight [V, D], as torch.nn.Embedding. */
export class Embedding extends Module {
  weight: Tensor; // [V, D]

  constructor(num: number, dim: number) {
    super();
    this.weight = param(zeros([num, dim]));
  }

  /** idx int32 [...] → [..., D] */
  forward(idx: Tensor): Tensor {
    if (idx.dtype !== 'int32')
      throw new Error(`Embedding: expected int32 indices, got ${idx.dtype} ${fmt(idx.shape)}`);
    return embedding(this.weight, idx);
  }

  /** torch's default: N(0, 1). */
  resetParameters(rng: Rng): this {
    normal_(this.weight, 1, rng);
    return this;
  }
}

/** x · rsqrt(mean(x²) + eps) · weight over the last axis. */
export class RMSNorm extends Module {
  weight: Tensor | null; // [D]
  readonly eps: number;

  constructor(dim: number, eps: number, opts: { affine?: boolean } = {}) {
    super();
    this.eps = eps;
    this.weight = (opts.affine ?? true) ? param(ones([dim])) : null;
  }

  /** x [..., D] → [..., D] */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.weight, this.eps);
  }
}

/** (x − mean) / sqrt(var + eps) · weight + bias over the last axis. */
export class LayerNorm extends Module {
  weight: Tensor | null; // [D]
  bias: Tensor | null; // [D]
  readonly eps: number;

  constructor(dim: number, eps: number, opts: { affine?: boolean } = {}) {
    super();
    this.eps = eps;
    const affine = opts.affine ?? true;
    this.weight = affine ? param(ones([dim])) : null;
    this.bias = affine ? param(zeros([dim])) : null;
  }

  /** x [..., D] → [..., D] */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}

/** GroupNorm over x [N, C, ...] with per-channel affine, as torch.nn.GroupNorm. */
export class GroupNorm extends Module {
  weight: Tensor | null; // [C]
  bias: Tensor | null; // [C]
  readonly groups: number;
  readonly eps: number;

  constructor(groups: number, channels: number, eps: number, opts: { affine?: boolean } = {}) {
    super();
    if (!Number.isInteger(groups) || groups <= 0 || channels % groups !== 0) {
      throw new Error(`GroupNorm: ${channels} channels cannot be split into ${groups} groups`);
    }
    this.groups = groups;
    this.eps = eps;
    const affine = opts.affine ?? true;
    this.weight = affine ? param(ones([channels])) : null;
    this.bias = affine ? param(zeros([channels])) : null;
  }

  /** x [N, C, ...] → [N, C, ...] */
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

/** 2-D convolution with a square kernel, as torch.nn.Conv2d (groups = 1, dilation = 1). */
export class Conv2d extends Module {
  weight: Tensor; // [out, in, k, k]
  bias: Tensor | null; // [out]
  readonly stride: number;
  readonly padding: number;

  constructor(
    cin: number,
    cout: number,
    kernel: number,
    opts: { stride?: number; padding?: number; bias?: boolean } = {},
  ) {
    super();
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.weight = param(zeros([cout, cin, kernel, kernel]));
    this.bias = (opts.bias ?? true) ? param(zeros([cout])) : null;
  }

  /** x [N, in, H, W] → [N, out, OH, OW] */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }

  /** torch's default: W ~ kaiming_uniform_(a = √5), b ~ U(−1/√fanIn, 1/√fanIn). */
  resetParameters(rng: Rng): this {
    kaimingUniform_(this.weight, rng, { a: Math.sqrt(5) });
    const [, cin, kh, kw] = this.weight.shape as [number, number, number, number];
    const bound = 1 / Math.sqrt(cin * kh * kw);
    if (this.bias) uniform_(this.bias, -bound, bound, rng);
    return this;
  }
}

/** Zeroes each element with probability p in training and scales the rest by 1/(1 − p);
 *  the identity in eval mode or when p = 0. The mask comes from the explicit rng. */
export class Dropout extends Module {
  readonly p: number;

  constructor(p: number) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
    this.p = p;
  }

  /** x [...] → [...] */
  forward(x: Tensor, rng: Rng): Tensor {
    if (!this.training || this.p === 0) return x;
    if (x.dtype === 'int32')
      throw new Error(`Dropout: expected a float tensor, got int32 ${fmt(x.shape)}`);
    const u = rng.uniform(x.size); // (0, 1): keep where u ≥ p, probability 1 − p
    const scale = this.p === 1 ? 0 : 1 / (1 - this.p);
    const mask = zeros(x.shape, x.dtype);
    const md = mask.data;
    for (let i = 0; i < md.length; i++) md[i] = (u[i] as number) >= this.p ? scale : 0;
    return mul(x, mask);
  }
}
