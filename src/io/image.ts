// Conversions between model images (float CHW in [-1, 1]) and 8-bit pixels (HWC), exactly as
// the official code does them, and image grids written as PNG.
//
// Letters: N images, C = 3 channels, H x W pixels.
//
// LlamaGen (sample_ddp.py, used for FID): torch.clamp(127.5 * x + 128.0, 0, 255).to(uint8),
//   all in float32, truncation toward zero; the decoder output is not clamped beforehand.
// VAR: the model clamps the decoder output to [-1, 1] and returns (x + 1) / 2; the PNG is
//   written by torchvision: x.mul(255).add_(0.5).clamp_(0, 255).to(uint8), all in float32.
// Inverse (what the VQ encoders expect): ToTensor (p / 255) then 2x - 1 (VAR) or
//   Normalize(0.5, 0.5) (LlamaGen); both give float32(float32(p / 255) * 2 - 1) exactly.

import { Tensor } from '../tensor/tensor.js';
import { drawText, GLYPH_H, textWidth } from './font.js';
import { readPng, writePng, type RawImage } from './png.js';

export type PixelConvention = 'llamagen' | 'var';

const fr = Math.fround;

function checkImages(op: string, x: Tensor): { n: number; h: number; w: number } {
  if (x.dtype === 'int32')
    throw new Error(`${op}: expected a float tensor in [-1, 1], found int32`);
  const s = x.shape;
  if (s.length === 3 && s[0] === 3) return { n: 1, h: s[1] as number, w: s[2] as number };
  if (s.length === 4 && s[1] === 3)
    return { n: s[0] as number, h: s[2] as number, w: s[3] as number };
  throw new Error(`${op}: expected shape [3, H, W] or [N, 3, H, W], found [${s.join(', ')}]`);
}

function convert(op: string, x: Tensor, px: (v: number) => number): Uint8Array {
  const { n, h, w } = checkImages(op, x);
  const hw = h * w;
  const out = new Uint8Array(n * hw * 3);
  const d = x.data;
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      const src = (i * 3 + c) * hw;
      for (let p = 0; p < hw; p++) out[(i * hw + p) * 3 + c] = px(d[src + p] as number);
    }
  }
  return out;
}

/** LlamaGen: clamp(127.5 x + 128, 0, 255) truncated, float32. [3,H,W] / [N,3,H,W] -> HWC / NHWC. */
export function toUint8LlamaGen(x: Tensor): Uint8Array {
  return convert('toUint8LlamaGen', x, (v) => {
    const y = fr(fr(127.5 * fr(v)) + 128);
    return y >= 255 ? 255 : y > 0 ? Math.trunc(y) : 0; // NaN -> 0
  });
}

/** VAR: clamp(x, -1, 1), (x + 1) / 2, then torchvision's mul(255).add_(0.5).clamp_(0, 255), truncated. */
export function toUint8Var(x: Tensor): Uint8Array {
  return convert('toUint8Var', x, (v) => {
    const c = v > 1 ? 1 : v < -1 ? -1 : fr(v);
    const u = fr(fr(c + 1) / 2);
    const y = fr(fr(u * 255) + 0.5);
    return y >= 255 ? 255 : y > 0 ? Math.trunc(y) : 0;
  });
}

export function toUint8(x: Tensor, convention: PixelConvention): Uint8Array {
  return convention === 'llamagen' ? toUint8LlamaGen(x) : toUint8Var(x);
}

/** 8-bit HWC pixels (1..4 channels; alpha dropped, gray replicated) -> float32 [3, H, W] in [-1, 1]. */
export function fromUint8(img: RawImage): Tensor<'float32'> {
  const { width: w, height: h, channels: ch, data } = img;
  if (data.length !== w * h * ch)
    throw new Error(`fromUint8: ${w}x${h}x${ch} needs ${w * h * ch} bytes, found ${data.length}`);
  const lut = new Float32Array(256);
  for (let p = 0; p < 256; p++) lut[p] = fr(fr(p / 255) * 2 - 1);
  const hw = w * h;
  const out = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++) {
    for (let c = 0; c < 3; c++) {
      const sc = ch >= 3 ? c : 0;
      out[c * hw + p] = lut[data[p * ch + sc] as number] as number;
    }
  }
  return new Tensor(out, [3, h, w]);
}

/** LlamaGen's preprocessing: ToTensor then Normalize(mean 0.5, std 0.5). */
export const fromUint8LlamaGen = fromUint8;
/** VAR's preprocessing: ToTensor then 2x - 1. */
export const fromUint8Var = fromUint8;

/** Reads a PNG as a float32 [3, H, W] tensor in [-1, 1]. */
export function readImageTensor(path: string): Tensor<'float32'> {
  return fromUint8(readPng(path));
}

/** Writes one image tensor [3, H, W] in [-1, 1] as an RGB PNG. */
export function writeImage(path: string, x: Tensor, convention: PixelConvention): void {
  const { n, h, w } = checkImages('writeImage', x);
  if (n !== 1) throw new Error(`writeImage: expected one image, found ${n}; use writeImageGrid`);
  writePng(path, { width: w, height: h, channels: 3, data: toUint8(x, convention) });
}

export interface GridOptions {
  /** Images per row (torchvision make_grid default 8). */
  nrow?: number;
  /** Pixels between and around tiles (default 2). */
  padding?: number;
  /** Gray level of the padding (default 0). */
  padValue?: number;
  /** One label per image, drawn in a strip under its tile. */
  labels?: readonly string[];
  /** How float tensors become pixels (default 'var', i.e. torchvision save_image). */
  convention?: PixelConvention;
}

/** Lays out images like torchvision make_grid (optionally labelled) and returns an RGB image. */
export function imageGrid(images: Tensor | readonly RawImage[], opts: GridOptions = {}): RawImage {
  let tiles: RawImage[];
  if (images instanceof Tensor) {
    const { n, h, w } = checkImages('imageGrid', images);
    const px = toUint8(images, opts.convention ?? 'var');
    tiles = [];
    for (let i = 0; i < n; i++)
      tiles.push({
        width: w,
        height: h,
        channels: 3,
        data: px.subarray(i * h * w * 3, (i + 1) * h * w * 3),
      });
  } else tiles = [...images];
  if (tiles.length === 0) throw new Error('imageGrid: no images');
  const first = tiles[0] as RawImage;
  const h = first.height;
  const w = first.width;
  for (const [i, t] of tiles.entries()) {
    if (t.width !== w || t.height !== h)
      throw new Error(
        `imageGrid: image ${i} is ${t.width}x${t.height}, expected ${w}x${h} like image 0`,
      );
  }
  const labels = opts.labels;
  if (labels !== undefined && labels.length !== tiles.length)
    throw new Error(`imageGrid: ${labels.length} labels for ${tiles.length} images`);
  const pad = opts.padding ?? 2;
  const nrow = Math.max(1, Math.min(opts.nrow ?? 8, tiles.length));
  const rows = Math.ceil(tiles.length / nrow);
  const scale = w >= 160 ? 2 : 1;
  const labelH = labels !== undefined ? (GLYPH_H + 4) * scale : 0;
  const cellH = h + labelH;
  const width = nrow * (w + pad) + pad;
  const height = rows * (cellH + pad) + pad;
  const data = new Uint8Array(width * height * 3).fill(
    Math.max(0, Math.min(255, Math.round(opts.padValue ?? 0))),
  );
  const out = { width, height, channels: 3 as const, data };
  tiles.forEach((t, i) => {
    const x0 = (i % nrow) * (w + pad) + pad;
    const y0 = Math.floor(i / nrow) * (cellH + pad) + pad;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = ((y0 + y) * width + x0 + x) * 3;
        const s = (y * w + x) * t.channels;
        for (let c = 0; c < 3; c++) data[o + c] = t.data[s + (t.channels >= 3 ? c : 0)] as number;
      }
    }
    const label = labels?.[i];
    if (label !== undefined) {
      for (let y = y0 + h; y < y0 + cellH; y++)
        data.fill(0, (y * width + x0) * 3, (y * width + x0 + w) * 3);
      let text = label;
      while (text.length > 0 && textWidth(text, scale) > w - 2) text = text.slice(0, -1);
      drawText(out, text, x0 + 1, y0 + h + 2 * scale, [255, 255, 255], scale);
    }
  });
  return out;
}

/** Writes an image grid PNG atomically. `images`: float [N, 3, H, W] in [-1, 1] or 8-bit images. */
export function writeImageGrid(
  path: string,
  images: Tensor | readonly RawImage[],
  opts: GridOptions = {},
): void {
  writePng(path, imageGrid(images, opts));
}
