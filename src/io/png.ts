// PNG decode / encode. Decode: 8-bit and 16-bit gray, gray+alpha, RGB, RGBA, palette and
// 1/2/4-bit gray, Adam7 interlacing, all five filters, CRC of every chunk checked; results
// are 8-bit (16-bit samples are reduced, with a note). Encode: 8-bit gray / gray+alpha /
// RGB / RGBA, per-row filter chosen by the minimum-sum-of-absolute-differences heuristic.

import { readFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';
import { writeBytesAtomic } from './atomic.js';
import { crc32 } from './crc32.js';

/** An 8-bit image, pixels row-major, channels interleaved (HWC). */
export interface RawImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 2 | 3 | 4;
  readonly data: Uint8Array;
}

export interface DecodedPng extends RawImage {
  /** Conversions applied while decoding (16-bit reduced, palette expanded, ...). */
  readonly notes: readonly string[];
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const MAX_PIXELS = 1 << 26;

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses the filter of each scanline in place; `bpp` = bytes per complete pixel (≥1). */
function unfilter(
  buf: Uint8Array,
  start: number,
  rows: number,
  rowBytes: number,
  bpp: number,
  what: string,
): Uint8Array {
  const out = new Uint8Array(rows * rowBytes);
  for (let y = 0; y < rows; y++) {
    const ft = buf[start + y * (rowBytes + 1)] as number;
    const src = start + y * (rowBytes + 1) + 1;
    const o = y * rowBytes;
    const up = o - rowBytes;
    for (let x = 0; x < rowBytes; x++) {
      const raw = buf[src + x] as number;
      const a = x >= bpp ? (out[o + x - bpp] as number) : 0;
      const b = y > 0 ? (out[up + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (out[up + x - bpp] as number) : 0;
      let v: number;
      switch (ft) {
        case 0:
          v = raw;
          break;
        case 1:
          v = raw + a;
          break;
        case 2:
          v = raw + b;
          break;
        case 3:
          v = raw + ((a + b) >> 1);
          break;
        case 4:
          v = raw + paeth(a, b, c);
          break;
        default:
          throw new Error(`${what}: invalid filter type ${ft} on row ${y}; the file is corrupt`);
      }
      out[o + x] = v & 0xff;
    }
  }
  return out;
}

interface Header {
  width: number;
  height: number;
  depth: number;
  colorType: number;
  interlace: number;
}

/** Converts unfiltered scanlines of one (sub)image to 8-bit samples, palette expanded. */
function toSamples(
  rows: Uint8Array,
  w: number,
  h: number,
  hd: Header,
  palette: Uint8Array | null,
  alpha: Uint8Array | null,
): Uint8Array {
  const spp = CHANNELS[hd.colorType] as number;
  const outCh = hd.colorType === 3 ? (alpha !== null ? 4 : 3) : spp;
  const out = new Uint8Array(w * h * outCh);
  const rowBytes = Math.ceil((w * spp * hd.depth) / 8);
  for (let y = 0; y < h; y++) {
    const r = y * rowBytes;
    for (let x = 0; x < w; x++) {
      for (let s = 0; s < spp; s++) {
        const i = x * spp + s;
        let v: number;
        if (hd.depth === 8) v = rows[r + i] as number;
        else if (hd.depth === 16) {
          const hv = ((rows[r + 2 * i] as number) << 8) | (rows[r + 2 * i + 1] as number);
          v = Math.round(hv / 257);
        } else {
          const bit = i * hd.depth;
          const byte = rows[r + (bit >> 3)] as number;
          v = (byte >> (8 - hd.depth - (bit & 7))) & ((1 << hd.depth) - 1);
          if (hd.colorType === 0) v = Math.round((v * 255) / ((1 << hd.depth) - 1));
        }
        if (hd.colorType === 3) {
          const o = (y * w + x) * outCh;
          if (palette === null || 3 * v + 2 >= palette.length)
            throw new Error(`palette index ${v} out of range`);
          out[o] = palette[3 * v] as number;
          out[o + 1] = palette[3 * v + 1] as number;
          out[o + 2] = palette[3 * v + 2] as number;
          if (outCh === 4)
            out[o + 3] =
              v < (alpha as Uint8Array).length ? ((alpha as Uint8Array)[v] as number) : 255;
        } else out[(y * w + x) * spp + s] = v;
      }
    }
  }
  return out;
}

const ADAM7: readonly [number, number, number, number][] = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

export function decodePng(bytes: Uint8Array, what = 'png'): DecodedPng {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b))
    throw new Error(`${what}: not a PNG file (signature missing)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 8;
  let hd: Header | null = null;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  const notes: string[] = [];
  let ended = false;
  while (pos < bytes.length) {
    if (pos + 12 > bytes.length) throw new Error(`${what}: truncated chunk header at byte ${pos}`);
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (len > 0x7fffffff || pos + 12 + len > bytes.length)
      throw new Error(
        `${what}: chunk ${type} (${len} bytes) runs past the end of the file (truncated?)`,
      );
    const body = bytes.subarray(pos + 8, pos + 8 + len);
    const crc = dv.getUint32(pos + 8 + len);
    if (crc32(bytes.subarray(pos + 4, pos + 8 + len)) !== crc)
      throw new Error(`${what}: CRC mismatch in chunk ${type}; the file is corrupt`);
    pos += 12 + len;
    if (type === 'IHDR') {
      if (len !== 13) throw new Error(`${what}: IHDR has ${len} bytes, expected 13`);
      const bd = new DataView(body.buffer, body.byteOffset, 13);
      hd = {
        width: bd.getUint32(0),
        height: bd.getUint32(4),
        depth: body[8] as number,
        colorType: body[9] as number,
        interlace: body[12] as number,
      };
      const okDepth: Readonly<Record<number, readonly number[]>> = {
        0: [1, 2, 4, 8, 16],
        2: [8, 16],
        3: [1, 2, 4, 8],
        4: [8, 16],
        6: [8, 16],
      };
      if (!(okDepth[hd.colorType] ?? []).includes(hd.depth))
        throw new Error(
          `${what}: unsupported color type ${hd.colorType} with bit depth ${hd.depth}`,
        );
      if (hd.width === 0 || hd.height === 0 || hd.width * hd.height > MAX_PIXELS)
        throw new Error(`${what}: image size ${hd.width}x${hd.height} is empty or too large`);
      if (body[10] !== 0 || body[11] !== 0 || hd.interlace > 1)
        throw new Error(`${what}: unsupported compression/filter/interlace method`);
    } else if (type === 'PLTE') palette = body.slice();
    else if (type === 'tRNS') trns = body.slice();
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    } else if (((type.charCodeAt(0) >> 5) & 1) === 0)
      throw new Error(`${what}: unknown critical chunk ${type}`);
  }
  if (hd === null) throw new Error(`${what}: IHDR chunk missing`);
  if (!ended) throw new Error(`${what}: IEND chunk missing (truncated file)`);
  if (hd.colorType === 3 && palette === null)
    throw new Error(`${what}: palette image without a PLTE chunk`);
  const spp = CHANNELS[hd.colorType] as number;
  const bpp = Math.max(1, (spp * hd.depth) >> 3);
  const passes = hd.interlace === 1 ? ADAM7 : ([[0, 0, 1, 1]] as const);
  let expected = 0;
  const dims = passes.map(([x0, y0, dx, dy]) => {
    const w = Math.max(0, Math.ceil((hd.width - x0) / dx));
    const h = Math.max(0, Math.ceil((hd.height - y0) / dy));
    const rowBytes = Math.ceil((w * spp * hd.depth) / 8);
    const size = w > 0 && h > 0 ? h * (rowBytes + 1) : 0;
    expected += size;
    return { w, h, rowBytes, size };
  });
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (e) {
    throw new Error(
      `${what}: image data does not inflate (${(e as Error).message}); the file is corrupt`,
    );
  }
  if (raw.length !== expected)
    throw new Error(`${what}: image data inflates to ${raw.length} bytes, expected ${expected}`);
  const alpha = hd.colorType === 3 ? trns : null;
  if (hd.colorType === 3)
    notes.push(alpha !== null ? 'palette expanded to RGBA' : 'palette expanded to RGB');
  if (hd.depth === 16) notes.push('16-bit samples reduced to 8-bit (round(v / 257))');
  if (hd.depth < 8 && hd.colorType === 0) notes.push(`${hd.depth}-bit gray scaled to 8-bit`);
  if (trns !== null && hd.colorType !== 3) notes.push('tRNS color key ignored');
  if (hd.interlace === 1) notes.push('Adam7 interlacing removed');
  const outCh = hd.colorType === 3 ? (alpha !== null ? 4 : 3) : spp;
  let data: Uint8Array;
  let off = 0;
  try {
    if (hd.interlace === 0) {
      const d = dims[0] as { w: number; h: number; rowBytes: number };
      data = toSamples(unfilter(raw, 0, d.h, d.rowBytes, bpp, what), d.w, d.h, hd, palette, alpha);
    } else {
      data = new Uint8Array(hd.width * hd.height * outCh);
      passes.forEach(([x0, y0, dx, dy], p) => {
        const d = dims[p] as { w: number; h: number; rowBytes: number; size: number };
        if (d.size === 0) return;
        const sub = toSamples(
          unfilter(raw, off, d.h, d.rowBytes, bpp, what),
          d.w,
          d.h,
          hd,
          palette,
          alpha,
        );
        off += d.size;
        for (let y = 0; y < d.h; y++)
          for (let x = 0; x < d.w; x++) {
            const o = ((y0 + y * dy) * hd.width + x0 + x * dx) * outCh;
            for (let c = 0; c < outCh; c++) data[o + c] = sub[(y * d.w + x) * outCh + c] as number;
          }
      });
    }
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  return { width: hd.width, height: hd.height, channels: outCh as 1 | 2 | 3 | 4, data, notes };
}

export function readPng(path: string): DecodedPng {
  return decodePng(readFileSync(path), path);
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = Buffer.alloc(12 + body.length);
  out.writeUInt32BE(body.length, 0);
  out.write(type, 4, 'latin1');
  out.set(body, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + body.length)), 8 + body.length);
  return out;
}

/** Encodes an 8-bit image (1: gray, 2: gray+alpha, 3: RGB, 4: RGBA channels). */
export function encodePng(img: RawImage): Uint8Array {
  const { width: w, height: h, channels: ch, data } = img;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0)
    throw new Error(`encodePng: bad size ${w}x${h}`);
  if (data.length !== w * h * ch)
    throw new Error(`encodePng: ${w}x${h}x${ch} needs ${w * h * ch} bytes, found ${data.length}`);
  const colorType = ({ 1: 0, 2: 4, 3: 2, 4: 6 } as const)[ch];
  const rb = w * ch;
  const filtered = new Uint8Array(h * (rb + 1));
  const cand = new Uint8Array(rb);
  for (let y = 0; y < h; y++) {
    const o = y * rb;
    let best = -1;
    let bestSum = Infinity;
    const dst = y * (rb + 1);
    for (let ft = 0; ft < 5; ft++) {
      let sum = 0;
      for (let x = 0; x < rb; x++) {
        const v = data[o + x] as number;
        const a = x >= ch ? (data[o + x - ch] as number) : 0;
        const b = y > 0 ? (data[o - rb + x] as number) : 0;
        const c = x >= ch && y > 0 ? (data[o - rb + x - ch] as number) : 0;
        const pred =
          ft === 0 ? 0 : ft === 1 ? a : ft === 2 ? b : ft === 3 ? (a + b) >> 1 : paeth(a, b, c);
        const r = (v - pred) & 0xff;
        cand[x] = r;
        sum += r < 128 ? r : 256 - r;
      }
      if (sum < bestSum) {
        bestSum = sum;
        best = ft;
        filtered[dst] = ft;
        filtered.set(cand, dst + 1);
      }
    }
    if (best < 0) filtered[dst] = 0;
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = colorType;
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(filtered, { level: 6 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** Writes an 8-bit PNG atomically. */
export function writePng(path: string, img: RawImage): void {
  writeBytesAtomic(path, encodePng(img));
}
