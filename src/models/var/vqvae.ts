// VAR's multi-scale VQVAE (models/vqvae.py `VQVAE`, models/basic_vae.py `Encoder`/`Decoder`):
// a conv encoder to a Cv×HW×HW latent, quant_conv, the residual multi-scale quantizer,
// post_quant_conv and a conv decoder back to pixels in [−1, 1]. See var-dd.md §2.2–§2.7.
//
// Letters: B batch, C channels, H×W spatial size, Cv latent channels, N = H·W positions.

import { Conv2d, GroupNorm } from '../../nn/layers.js';
import { Module } from '../../nn/module.js';
import * as T from '../../tensor/index.js';
import { validateVqvaeConfig, type VqvaeConfig } from './config.js';
import { Identity, VectorQuantizer2 } from './quant.js';

/** GroupNorm(groups, C, eps 1e-6, affine) as basic_vae.Normalize. */
function normalize(C: number, groups: number): GroupNorm {
  return new GroupNorm(groups, C, 1e-6);
}

/** shortcut(x) + conv2(SiLU(norm2(conv1(SiLU(norm1(x)))))) */
export class ResnetBlock extends Module {
  norm1: GroupNorm;
  conv1: Conv2d;
  norm2: GroupNorm;
  conv2: Conv2d;
  nin_shortcut: Conv2d | null;

  constructor(cin: number, cout: number, groups: number) {
    super();
    this.norm1 = normalize(cin, groups);
    this.conv1 = new Conv2d(cin, cout, 3, { stride: 1, padding: 1 });
    this.norm2 = normalize(cout, groups);
    this.conv2 = new Conv2d(cout, cout, 3, { stride: 1, padding: 1 });
    this.nin_shortcut = cin !== cout ? new Conv2d(cin, cout, 1, { stride: 1, padding: 0 }) : null;
  }

  /** x [B, Cin, H, W] → [B, Cout, H, W] */
  forward(x: T.Tensor): T.Tensor {
    const h = this.conv1.forward(T.silu(this.norm1.forward(x)));
    const h2 = this.conv2.forward(T.silu(this.norm2.forward(h)));
    return T.add(this.nin_shortcut ? this.nin_shortcut.forward(x) : x, h2);
  }
}

/** Single-head spatial self-attention with a fused 1×1 qkv conv: x + proj_out(attn(norm(x))). */
export class AttnBlock extends Module {
  norm: GroupNorm;
  qkv: Conv2d;
  proj_out: Conv2d;
  readonly C: number;

  constructor(C: number, groups: number) {
    super();
    this.C = C;
    this.norm = normalize(C, groups);
    this.qkv = new Conv2d(C, 3 * C, 1, { stride: 1, padding: 0 });
    this.proj_out = new Conv2d(C, C, 1, { stride: 1, padding: 0 });
  }

  /** x [B, C, H, W] → [B, C, H, W] */
  forward(x: T.Tensor): T.Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const qkv = this.qkv.forward(this.norm.forward(x)); // [B, 3C, H, W]
    // [B, 3, C, N] → [3, B, 1, N, C]: q, k, v as single-head sequences of N positions.
    const seq = T.permute(T.reshape(qkv, [B, 3, 1, C, H * W]), [1, 0, 2, 4, 3]);
    const [q, k, v] = T.split(seq, 1, 0).map((t) => T.reshape(t, [B, 1, H * W, C])) as [
      T.Tensor,
      T.Tensor,
      T.Tensor,
    ];
    const o = T.sdpa(q, k, v, { scale: 1 / Math.sqrt(C) }); // [B, 1, N, C]
    const h = T.reshape(T.transpose(T.reshape(o, [B, H * W, C]), 1, 2), [B, C, H, W]);
    return T.add(x, this.proj_out.forward(h));
  }
}

/** Zero-pad right and bottom by one, then a 3×3 stride-2 conv (basic_vae.Downsample2x). */
export class Downsample2x extends Module {
  conv: Conv2d;
  constructor(C: number) {
    super();
    this.conv = new Conv2d(C, C, 3, { stride: 2, padding: 0 });
  }

  /** x [B, C, H, W] → [B, C, H/2, W/2] */
  forward(x: T.Tensor): T.Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    const right = T.concat([x, T.zeros([B, C, H, 1])], 3); // [B, C, H, W + 1]
    const padded = T.concat([right, T.zeros([B, C, 1, W + 1])], 2); // [B, C, H + 1, W + 1]
    return this.conv.forward(padded);
  }
}

/** Nearest ×2 then a 3×3 conv (basic_vae.Upsample2x). */
export class Upsample2x extends Module {
  conv: Conv2d;
  constructor(C: number) {
    super();
    this.conv = new Conv2d(C, C, 3, { stride: 1, padding: 1 });
  }

  /** x [B, C, H, W] → [B, C, 2H, 2W] */
  forward(x: T.Tensor): T.Tensor {
    const [B, C, H, W] = x.shape as [number, number, number, number];
    if (x.requiresGrad && T.isGradEnabled())
      return this.conv.forward(T.resize2d(x, 2 * H, 2 * W, 'nearest'));
    // Inference: copy each pixel into a 2×2 block directly (resize2d would run two matmuls).
    const out = new Float32Array(B * C * 4 * H * W);
    const xd = x.data;
    const W2 = 2 * W;
    for (let p = 0; p < B * C * H; p++) {
      const src = p * W;
      const dst = 2 * p * W2;
      for (let j = 0; j < W; j++) {
        const v = xd[src + j] as number;
        out[dst + 2 * j] = v;
        out[dst + 2 * j + 1] = v;
      }
      out.copyWithin(dst + W2, dst, dst + W2);
    }
    return this.conv.forward(new T.Tensor(out, [B, C, 2 * H, 2 * W]));
  }
}

/** One resolution level: res blocks, each optionally followed by attention, then a resampler. */
export class Level extends Module {
  block: ResnetBlock[] = [];
  attn: AttnBlock[] = [];
  downsample: Downsample2x | null = null;
  upsample: Upsample2x | null = null;
}

export class Mid extends Module {
  block_1: ResnetBlock;
  attn_1: AttnBlock | Identity;
  block_2: ResnetBlock;

  constructor(C: number, groups: number, usingMidSa: boolean) {
    super();
    this.block_1 = new ResnetBlock(C, C, groups);
    this.attn_1 = usingMidSa ? new AttnBlock(C, groups) : new Identity();
    this.block_2 = new ResnetBlock(C, C, groups);
  }

  /** x [B, C, H, W] → [B, C, H, W] */
  forward(x: T.Tensor): T.Tensor {
    return this.block_2.forward(this.attn_1.forward(this.block_1.forward(x)));
  }
}

function runLevel(level: Level, h: T.Tensor): T.Tensor {
  let x = h;
  level.block.forEach((b, i) => {
    x = b.forward(x);
    const a = level.attn[i];
    if (a) x = a.forward(x);
  });
  return x;
}

/** Image [B, 3, H, W] in [−1, 1] → latent [B, Cv, H/2^(n−1), W/2^(n−1)]. */
export class Encoder extends Module {
  conv_in: Conv2d;
  down: Level[];
  mid: Mid;
  norm_out: GroupNorm;
  conv_out: Conv2d;

  constructor(cfg: VqvaeConfig) {
    super();
    const { ch, encoder_ch_mult: mult, num_res_blocks, groupnorm_groups: g } = cfg;
    const n = mult.length;
    this.conv_in = new Conv2d(3, ch, 3, { stride: 1, padding: 1 });
    this.down = [];
    let cin = ch;
    for (let l = 0; l < n; l++) {
      const level = new Level();
      const cout = ch * (mult[l] as number);
      for (let i = 0; i < num_res_blocks; i++) {
        level.block.push(new ResnetBlock(cin, cout, g));
        cin = cout;
        if (l === n - 1 && cfg.using_sa) level.attn.push(new AttnBlock(cin, g));
      }
      if (l !== n - 1) level.downsample = new Downsample2x(cin);
      this.down.push(level);
    }
    this.mid = new Mid(cin, g, cfg.using_mid_sa);
    this.norm_out = normalize(cin, g);
    this.conv_out = new Conv2d(cin, cfg.z_channels, 3, { stride: 1, padding: 1 });
  }

  forward(x: T.Tensor): T.Tensor {
    let h = this.conv_in.forward(x);
    for (const level of this.down) {
      h = runLevel(level, h);
      if (level.downsample) h = level.downsample.forward(h);
    }
    h = this.mid.forward(h);
    return this.conv_out.forward(T.silu(this.norm_out.forward(h)));
  }
}

/** Latent [B, Cv, h, w] → image [B, 3, h·2^(n−1), w·2^(n−1)] (not clamped). */
export class Decoder extends Module {
  conv_in: Conv2d;
  mid: Mid;
  up: Level[];
  norm_out: GroupNorm;
  conv_out: Conv2d;

  constructor(cfg: VqvaeConfig) {
    super();
    const { ch, decoder_ch_mult: mult, num_res_blocks, groupnorm_groups: g } = cfg;
    const n = mult.length;
    let cin = ch * (mult[n - 1] as number);
    this.conv_in = new Conv2d(cfg.z_channels, cin, 3, { stride: 1, padding: 1 });
    this.mid = new Mid(cin, g, cfg.using_mid_sa);
    const up: Level[] = new Array<Level>(n);
    for (let l = n - 1; l >= 0; l--) {
      const level = new Level();
      const cout = ch * (mult[l] as number);
      for (let i = 0; i < num_res_blocks + 1; i++) {
        level.block.push(new ResnetBlock(cin, cout, g));
        cin = cout;
        if (l === n - 1 && cfg.using_sa) level.attn.push(new AttnBlock(cin, g));
      }
      if (l !== 0) level.upsample = new Upsample2x(cin);
      up[l] = level;
    }
    this.up = up;
    this.norm_out = normalize(cin, g);
    this.conv_out = new Conv2d(cin, 3, 3, { stride: 1, padding: 1 });
  }

  forward(z: T.Tensor): T.Tensor {
    let h = this.mid.forward(this.conv_in.forward(z));
    for (let l = this.up.length - 1; l >= 0; l--) {
      const level = this.up[l] as Level;
      h = runLevel(level, h);
      if (level.upsample) h = level.upsample.forward(h);
    }
    return this.conv_out.forward(T.silu(this.norm_out.forward(h)));
  }
}

/** The VQVAE with official parameter names (encoder.*, decoder.*, quantize.*, quant_conv.*,
 *  post_quant_conv.*). Inference methods run without recording gradients. */
export class VQVAE extends Module {
  encoder: Encoder;
  decoder: Decoder;
  quantize: VectorQuantizer2;
  quant_conv: Conv2d;
  post_quant_conv: Conv2d;
  readonly config: VqvaeConfig;

  constructor(cfg: VqvaeConfig) {
    super();
    this.config = validateVqvaeConfig(cfg);
    const ks = cfg.quant_conv_ks;
    this.encoder = new Encoder(cfg);
    this.decoder = new Decoder(cfg);
    this.quantize = new VectorQuantizer2(cfg);
    this.quant_conv = new Conv2d(cfg.z_channels, cfg.z_channels, ks, {
      stride: 1,
      padding: Math.floor(ks / 2),
    });
    this.post_quant_conv = new Conv2d(cfg.z_channels, cfg.z_channels, ks, {
      stride: 1,
      padding: Math.floor(ks / 2),
    });
    this.eval();
  }

  /** quant_conv(encoder(img)): img [B, 3, H, W] in [−1, 1] → f [B, Cv, HW, HW]. */
  encode(img: T.Tensor): T.Tensor {
    return T.noGrad(() => this.quant_conv.forward(this.encoder.forward(img)));
  }

  /** img_to_idxBl: per-scale indices [B·pn_k²] (row-major) of an image batch. */
  imgToIdxBl(img: T.Tensor): Int32Array[] {
    return T.noGrad(() => this.quantize.fToIdxBl(this.encode(img)).idx);
  }

  /** decoder(post_quant_conv(f̂)) before the clamp: f̂ [B, Cv, HW, HW] → [B, 3, H, W]. */
  decodeRaw(fhat: T.Tensor): T.Tensor {
    return T.noGrad(() => this.decoder.forward(this.post_quant_conv.forward(fhat)));
  }

  /** fhat_to_img: the decoded image clamped to [−1, 1]. */
  fhatToImg(fhat: T.Tensor): T.Tensor {
    return clamp11(this.decodeRaw(fhat));
  }

  /** idxBl_to_img(last_one=True): indices of every scale → image in [−1, 1]. */
  idxBlToImg(idx: readonly Int32Array[], B: number): T.Tensor {
    const fh = T.noGrad(() => this.quantize.idxBlToFhat(idx, B));
    return this.fhatToImg(fh[fh.length - 1] as T.Tensor);
  }

  /** img_to_reconstructed_img(last_one=True): encode, quantize all scales, decode, clamp. */
  reconstruct(img: T.Tensor): T.Tensor {
    const fh = T.noGrad(() => this.quantize.fToIdxBl(this.encode(img)).fhat);
    return this.fhatToImg(fh[fh.length - 1] as T.Tensor);
  }
}

/** A copy of x clamped to [−1, 1] (NaN stays NaN, as torch.clamp). */
export function clamp11(x: T.Tensor): T.Tensor {
  const out = new Float32Array(x.size);
  const d = x.data;
  for (let i = 0; i < out.length; i++) {
    const v = d[i] as number;
    out[i] = v > 1 ? 1 : v < -1 ? -1 : v;
  }
  return new T.Tensor(out, x.shape);
}
