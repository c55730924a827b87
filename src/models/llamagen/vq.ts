// LlamaGen VQ tokenizer (tokenizer/tokenizer_image/vq_model.py, class VQModel; VQ-16 by
// default): convolutional encoder, vector quantizer over an l2-normalised codebook, decoder.
// Module attributes carry the official names (`decoder.conv_blocks.0.attn.1.q.weight`, …).
//
// Letters: N batch, C channels, H×W spatial size, c codebook dim, V codebook size,
// h×w latent grid, P = h·w positions.
//
// Layout rules (any ch, res-block count R, ch_mult of n levels): the encoder's level l has R
// res blocks, attention only at the last (coarsest) level, a Downsample after every level but
// the last; the decoder walks ch_mult in reverse with R + 1 res blocks per level, attention
// only at level 0 (coarsest), an Upsample after every level but the last. GroupNorm: 32
// groups, eps 1e-6. Downsample pads right/bottom only; Upsample is nearest ×2 then a conv.

import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { Conv2d, Embedding, GroupNorm } from '../../nn/layers.js';
import { Module, buffer } from '../../nn/module.js';
import { VQ_16, validateVqConfig, type VqConfig } from './config.js';

function normalize(channels: number): GroupNorm {
  return new GroupNorm(32, channels, 1e-6);
}

/** Shortcut(x) + conv(swish(GN(conv(swish(GN(x)))))). */
export class ResnetBlock extends Module {
  norm1: GroupNorm;
  conv1: Conv2d;
  norm2: GroupNorm;
  conv2: Conv2d;
  nin_shortcut: Conv2d | null;

  constructor(cin: number, cout: number) {
    super();
    this.norm1 = normalize(cin);
    this.conv1 = new Conv2d(cin, cout, 3, { padding: 1 });
    this.norm2 = normalize(cout);
    this.conv2 = new Conv2d(cout, cout, 3, { padding: 1 });
    this.nin_shortcut = cin !== cout ? new Conv2d(cin, cout, 1) : null;
  }

  /** x [N, Cin, H, W] → [N, Cout, H, W] */
  forward(x: Tensor): Tensor {
    let h = this.conv1.forward(T.silu(this.norm1.forward(x)));
    h = this.conv2.forward(T.silu(this.norm2.forward(h)));
    return T.add(this.nin_shortcut ? this.nin_shortcut.forward(x) : x, h);
  }
}

/** Single-head self-attention over all H·W positions with 1×1-conv q, k, v and projection. */
export class AttnBlock extends Module {
  norm: GroupNorm;
  q: Conv2d;
  k: Conv2d;
  v: Conv2d;
  proj_out: Conv2d;

  constructor(channels: number) {
    super();
    this.norm = normalize(channels);
    this.q = new Conv2d(channels, channels, 1);
    this.k = new Conv2d(channels, channels, 1);
    this.v = new Conv2d(channels, channels, 1);
    this.proj_out = new Conv2d(channels, channels, 1);
  }

  /** x [N, C, H, W] → [N, C, H, W] */
  forward(x: Tensor): Tensor {
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const hn = this.norm.forward(x);
    const seq = (t: Tensor) =>
      T.reshape(T.transpose(T.reshape(t, [N, C, H * W]), 1, 2), [N, 1, H * W, C]);
    const o = T.sdpa(seq(this.q.forward(hn)), seq(this.k.forward(hn)), seq(this.v.forward(hn))); // [N, 1, P, C], scale C^-1/2
    const back = T.reshape(T.transpose(T.reshape(o, [N, H * W, C]), 1, 2), [N, C, H, W]);
    return T.add(x, this.proj_out.forward(back));
  }
}

/** Zero-pad right and bottom by one, then a stride-2 3×3 conv. */
export class Downsample extends Module {
  conv: Conv2d;

  constructor(channels: number) {
    super();
    this.conv = new Conv2d(channels, channels, 3, { stride: 2, padding: 0 });
  }

  /** x [N, C, H, W] → [N, C, ⌊(H−2)/2⌋+1, ⌊(W−2)/2⌋+1] */
  forward(x: Tensor): Tensor {
    const [N, C, H, W] = x.shape as [number, number, number, number];
    const padW = T.concat([x, T.zeros([N, C, H, 1])], 3);
    const padded = T.concat([padW, T.zeros([N, C, 1, W + 1])], 2);
    return this.conv.forward(padded);
  }
}

/** Nearest ×2: every pixel repeated in a 2×2 block. x [N, C, H, W] → [N, C, 2H, 2W]. */
export function upsampleNearest2x(x: Tensor): Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  if (T.isGradEnabled() && x.requiresGrad) {
    const e = T.expand(T.reshape(x, [N, C, H, 1, W, 1]), [N, C, H, 2, W, 2]);
    return T.reshape(e, [N, C, 2 * H, 2 * W]);
  }
  const src = x.data;
  const out = new Float32Array(N * C * 4 * H * W);
  const W2 = 2 * W;
  for (let p = 0; p < N * C; p++) {
    for (let y = 0; y < H; y++) {
      const s = (p * H + y) * W;
      const o = (p * 2 * H + 2 * y) * W2;
      for (let i = 0; i < W; i++) {
        const v = src[s + i] as number;
        out[o + 2 * i] = v;
        out[o + 2 * i + 1] = v;
      }
      out.copyWithin(o + W2, o, o + W2);
    }
  }
  return new T.Tensor(out, [N, C, 2 * H, 2 * W]);
}

/** Nearest ×2 then a 3×3 conv. */
export class Upsample extends Module {
  conv: Conv2d;

  constructor(channels: number) {
    super();
    this.conv = new Conv2d(channels, channels, 3, { padding: 1 });
  }

  /** x [N, C, H, W] → [N, C, 2H, 2W] */
  forward(x: Tensor): Tensor {
    return this.conv.forward(upsampleNearest2x(x));
  }
}

type Block = ResnetBlock | AttnBlock;

/** One resolution level: res blocks, optional attention after each, optional resampling. */
export class EncoderLevel extends Module {
  res: ResnetBlock[] = [];
  attn: AttnBlock[] = [];
  downsample: Downsample | null = null;
}

export class DecoderLevel extends Module {
  res: ResnetBlock[] = [];
  attn: AttnBlock[] = [];
  upsample: Upsample | null = null;
}

function runLevel(level: EncoderLevel | DecoderLevel, x: Tensor): Tensor {
  let h = x;
  level.res.forEach((r, i) => {
    h = r.forward(h);
    const a = level.attn[i];
    if (a) h = a.forward(h);
  });
  return h;
}

function midBlocks(c: number): Block[] {
  return [new ResnetBlock(c, c), new AttnBlock(c), new ResnetBlock(c, c)];
}

/** Image [N, 3, H, W] → [N, z_channels, H/f, W/f]. */
export class Encoder extends Module {
  conv_in: Conv2d;
  conv_blocks: EncoderLevel[] = [];
  mid: Block[];
  norm_out: GroupNorm;
  conv_out: Conv2d;

  constructor(ch: number, chMult: readonly number[], numResBlocks: number, zChannels: number) {
    super();
    this.conv_in = new Conv2d(3, ch, 3, { padding: 1 });
    const n = chMult.length;
    let cin = ch;
    chMult.forEach((m, l) => {
      const level = new EncoderLevel();
      const cout = ch * m;
      for (let r = 0; r < numResBlocks; r++) {
        level.res.push(new ResnetBlock(cin, cout));
        cin = cout;
        if (l === n - 1) level.attn.push(new AttnBlock(cin));
      }
      if (l !== n - 1) level.downsample = new Downsample(cin);
      this.conv_blocks.push(level);
    });
    this.mid = midBlocks(cin);
    this.norm_out = normalize(cin);
    this.conv_out = new Conv2d(cin, zChannels, 3, { padding: 1 });
  }

  forward(x: Tensor): Tensor {
    let h = this.conv_in.forward(x);
    for (const level of this.conv_blocks) {
      h = runLevel(level, h);
      if (level.downsample) h = level.downsample.forward(h);
    }
    for (const b of this.mid) h = b.forward(h);
    return this.conv_out.forward(T.silu(this.norm_out.forward(h)));
  }
}

/** Latent [N, z_channels, h, w] → image [N, 3, h·f, w·f] (not clamped). */
export class Decoder extends Module {
  conv_in: Conv2d;
  mid: Block[];
  conv_blocks: DecoderLevel[] = [];
  norm_out: GroupNorm;
  conv_out: Conv2d;

  constructor(ch: number, chMult: readonly number[], numResBlocks: number, zChannels: number) {
    super();
    const n = chMult.length;
    let cin = ch * (chMult[n - 1] as number);
    this.conv_in = new Conv2d(zChannels, cin, 3, { padding: 1 });
    this.mid = midBlocks(cin);
    for (let l = 0; l < n; l++) {
      const level = new DecoderLevel();
      const cout = ch * (chMult[n - l - 1] as number);
      for (let r = 0; r < numResBlocks + 1; r++) {
        level.res.push(new ResnetBlock(cin, cout));
        cin = cout;
        if (l === 0) level.attn.push(new AttnBlock(cin));
      }
      if (l !== n - 1) level.upsample = new Upsample(cin);
      this.conv_blocks.push(level);
    }
    this.norm_out = normalize(cin);
    this.conv_out = new Conv2d(cin, 3, 3, { padding: 1 });
  }

  forward(z: Tensor): Tensor {
    let h = this.conv_in.forward(z);
    for (const b of this.mid) h = b.forward(h);
    for (const level of this.conv_blocks) {
      h = runLevel(level, h);
      if (level.upsample) h = level.upsample.forward(h);
    }
    return this.conv_out.forward(T.silu(this.norm_out.forward(h)));
  }
}

/** Rows of x [R, c] divided by max(‖row‖₂, 1e-12) (F.normalize), float32. */
export function l2NormalizeRows(x: Float32Array, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / c; r++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += (x[r * c + j] as number) ** 2;
    const n = Math.max(Math.fround(Math.sqrt(s)), 1e-12);
    for (let j = 0; j < c; j++) out[r * c + j] = (x[r * c + j] as number) / n;
  }
  return out;
}

export interface Quantized {
  /** Straight-through quantised latent ẑ + (ĉ − ẑ), [N, c, h, w]. */
  readonly quant: Tensor;
  /** Chosen codebook rows, flat over (n, y, x): [N·h·w]. */
  readonly indices: Int32Array;
}

/** Nearest-codebook quantizer (squared distance between l2-normalised vectors, first index on
 *  ties). The usage counter `codebook_used` exists only with codebook_show_usage. */
export class VectorQuantizer extends Module {
  embedding: Embedding; // [V, c], stored un-normalised
  codebook_used: Tensor | null; // [65536]
  readonly l2Norm: boolean;

  constructor(size: number, dim: number, l2Norm: boolean, showUsage: boolean) {
    super();
    this.embedding = new Embedding(size, dim);
    this.codebook_used = showUsage ? buffer(T.zeros([65536])) : null;
    this.l2Norm = l2Norm;
  }

  /** The codebook as every index → vector mapping uses it: [V, c]. */
  codebook(): Tensor {
    const w = this.embedding.weight;
    if (!this.l2Norm) return w;
    const c = w.shape[1] as number;
    if (!(w.data instanceof Float32Array))
      throw new Error('VectorQuantizer: the codebook must be float32');
    return new T.Tensor(l2NormalizeRows(w.data, c), w.shape);
  }

  /** z [N, c, h, w] → nearest codebook entries (inference; no gradient). */
  quantize(z: Tensor): Quantized {
    const [N, c, h, w] = z.shape as [number, number, number, number];
    const cb = this.codebook();
    const cbd = cb.data;
    const V = cb.shape[0] as number;
    const cn = new Float64Array(V);
    for (let k = 0; k < V; k++) {
      let s = 0;
      for (let j = 0; j < c; j++) s += (cbd[k * c + j] as number) ** 2;
      cn[k] = s;
    }
    const zl = T.permute(z, [0, 2, 3, 1]).data; // [N, h, w, c]
    const zf = zl instanceof Float32Array ? zl : Float32Array.from(zl);
    const zh = this.l2Norm ? l2NormalizeRows(zf, c) : zf;
    const P = N * h * w;
    const indices = new Int32Array(P);
    const q = new Float32Array(P * c);
    for (let p = 0; p < P; p++) {
      let zz = 0;
      for (let j = 0; j < c; j++) zz += (zh[p * c + j] as number) ** 2;
      let best = Infinity;
      let bi = 0;
      for (let k = 0; k < V; k++) {
        let dot = 0;
        for (let j = 0; j < c; j++) dot += (zh[p * c + j] as number) * (cbd[k * c + j] as number);
        const dist = zz + (cn[k] as number) - 2 * dot;
        if (dist < best) {
          best = dist;
          bi = k;
        }
      }
      indices[p] = bi;
      for (let j = 0; j < c; j++) {
        const zv = zh[p * c + j] as number;
        q[p * c + j] = zv + Math.fround((cbd[bi * c + j] as number) - zv);
      }
    }
    const quant = T.permute(new T.Tensor(q, [N, h, w, c]), [0, 3, 1, 2]);
    return { quant, indices };
  }

  /** codes int32 ([N, h·w] or flat) → latent [N, c, h, w] of normalised codebook rows. */
  codebookEntry(codes: Tensor, shape: readonly [number, number, number, number]): Tensor {
    const [N, c, h, w] = shape;
    if (codes.dtype !== 'int32' || codes.size !== N * h * w) {
      throw new Error(
        `VectorQuantizer: codes must be ${N * h * w} int32 indices for latent shape [${shape.join(', ')}], got ${codes.dtype} [${codes.shape.join(', ')}]`,
      );
    }
    const cb = this.codebook();
    if (cb.shape[1] !== c)
      throw new Error(
        `VectorQuantizer: latent channels ${c} differ from the codebook dim ${cb.shape[1]}`,
      );
    const rows = T.embedding(cb, T.reshape(codes, [N, h, w])); // [N, h, w, c]
    return T.permute(rows, [0, 3, 1, 2]);
  }
}

export interface Encoded {
  /** Pre-quantisation latent quant_conv(encoder(x)), [N, c, h, w]. */
  readonly h: Tensor;
  readonly quant: Tensor;
  readonly indices: Int32Array;
}

/** The VQ tokenizer. */
export class VQModel extends Module {
  encoder: Encoder;
  decoder: Decoder;
  quantize: VectorQuantizer;
  quant_conv: Conv2d;
  post_quant_conv: Conv2d;
  readonly config: VqConfig;

  constructor(config: VqConfig = VQ_16) {
    super();
    const c = validateVqConfig(config);
    this.config = c;
    this.encoder = new Encoder(c.ch, c.encoder_ch_mult, c.num_res_blocks, c.z_channels);
    this.decoder = new Decoder(c.ch, c.decoder_ch_mult, c.num_res_blocks, c.z_channels);
    this.quantize = new VectorQuantizer(
      c.codebook_size,
      c.codebook_embed_dim,
      c.codebook_l2_norm,
      c.codebook_show_usage,
    );
    this.quant_conv = new Conv2d(c.z_channels, c.codebook_embed_dim, 1);
    this.post_quant_conv = new Conv2d(c.codebook_embed_dim, c.z_channels, 1);
    this.eval();
  }

  /** Image [N, 3, H, W] in [−1, 1] → latent, quantised latent and indices. */
  encode(x: Tensor): Encoded {
    const h = this.quant_conv.forward(this.encoder.forward(x));
    const { quant, indices } = this.quantize.quantize(h);
    return { h, quant, indices };
  }

  /** Any continuous latent [N, c, h, w] → image [N, 3, H, W] (not clamped). */
  decode(latent: Tensor): Tensor {
    return this.decoder.forward(this.post_quant_conv.forward(latent));
  }

  /** Token ids ([N, h·w] raster order, or flat) → image; shape = [N, c, h, w]. */
  decodeCode(codes: Tensor, shape: readonly [number, number, number, number]): Tensor {
    return this.decode(this.quantize.codebookEntry(codes, shape));
  }

  /** decode(encode(x).quant). */
  forward(x: Tensor): Tensor {
    return this.decode(this.encode(x).quant);
  }
}
