// float16 / bfloat16 <-> float32 bit conversions (storage formats only; compute is float32).
// Decoding f16 uses a 65536-entry lookup table built once; encoding rounds to nearest even.

let f16Table: Float32Array | null = null;

function f16BitsToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** The float32 value of every f16 bit pattern. */
export function f16LookupTable(): Float32Array {
  if (f16Table === null) {
    const t = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) t[h] = f16BitsToFloat(h);
    f16Table = t;
  }
  return f16Table;
}

/** Decodes `src` (f16 bit patterns) into `out` (same length). */
export function decodeF16(src: Uint16Array, out: Float32Array): void {
  const t = f16LookupTable();
  for (let i = 0; i < src.length; i++) out[i] = t[src[i] as number] as number;
}

/** Decodes `src` (bf16 bit patterns) into `out`: the bf16 bits are the high half of a float32. */
export function decodeBF16(src: Uint16Array, out: Float32Array): void {
  const o = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) o[i] = (src[i] as number) << 16;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float -> f16 bits, round to nearest even, overflow to ±inf, NaN kept quiet. */
export function floatToF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // underflows to ±0 even after rounding
    const m = mant | 0x800000; // implicit leading one
    const shift = 14 - e; // 14..24
    const half = 1 << (shift - 1);
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    if (rem > half || (rem === half && (r & 1) === 1)) r++;
    return sign | r; // r may carry into the smallest normal, which is correct
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r++; // may carry into inf: correct
  return sign | r;
}

/** float -> bf16 bits, round to nearest even, NaN kept quiet. */
export function floatToBF16Bits(x: number): number {
  f32[0] = x;
  const b = u32[0] as number;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff) !== 0) return ((b >>> 16) | 0x40) & 0xffff;
  const lsb = (b >>> 16) & 1;
  return ((b + 0x7fff + lsb) >>> 16) & 0xffff;
}

export function encodeF16(src: ArrayLike<number>, out: Uint16Array): void {
  for (let i = 0; i < src.length; i++) out[i] = floatToF16Bits(src[i] as number);
}

export function encodeBF16(src: ArrayLike<number>, out: Uint16Array): void {
  for (let i = 0; i < src.length; i++) out[i] = floatToBF16Bits(src[i] as number);
}
