// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11) with Box–Muller normals.
// The same (seed, stream, offset) gives the same numbers on every machine, backend and batch
// size: nothing depends on call order across streams.
//
// Stream layout (datasets depend on it; never change it without a format version bump):
//   key     = (seed mod 2^32, floor(seed / 2^32) mod 2^32)           seed: integer in [0, 2^53)
//   counter = (block mod 2^32, floor(block / 2^32), stream mod 2^32, floor(stream / 2^32))
//   One block yields four uint32 words x0..x3.
//   uniform u from a word x: (x + 0.5) · 2^-32, in (0, 1), computed in float64.
//   normals: words (x0, x1) → (z0, z1), words (x2, x3) → (z2, z3) with
//     r = sqrt(−2 ln u(xa)), z_a = r cos(2π u(xb)), z_b = r sin(2π u(xb)); stored as float32.
//   Normal number n of a stream therefore comes from block floor(n / 4), word pair
//   floor((n mod 4) / 2). A generator reads blocks consecutively from `offset` (a block index)
//   and every draw starts on a fresh block, so a draw of k values consumes ceil(k / 4) blocks
//   (uniforms and integers: one word each, ceil(k / 4) blocks as well).

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

function mulhi(a: number, b: number): number {
  // High 32 bits of the 64-bit product of two uint32.
  const aH = a >>> 16;
  const aL = a & 0xffff;
  const bH = b >>> 16;
  const bL = b & 0xffff;
  const ll = aL * bL;
  const lh = aL * bH;
  const hl = aH * bL;
  const hh = aH * bH;
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + Math.floor(mid / 65536)) >>> 0;
}

/** One Philox4x32-10 block into out[0..3]. */
export function philox4x32(k0: number, k1: number, c0: number, c1: number, c2: number, c3: number, out: Uint32Array): void {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let key0 = k0 >>> 0;
  let key1 = k1 >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    const y0 = (hi1 ^ x1 ^ key0) >>> 0;
    const y1 = lo1;
    const y2 = (hi0 ^ x3 ^ key1) >>> 0;
    const y3 = lo0;
    x0 = y0;
    x1 = y1;
    x2 = y2;
    x3 = y3;
    key0 = (key0 + W0) >>> 0;
    key1 = (key1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
}

const TWO32 = 4294967296;

function checkIndex(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new Error(`Rng: ${what} must be an integer in [0, 2^53), got ${v}`);
}

function u01(x: number): number {
  return (x + 0.5) / TWO32;
}

/** A seeded counter-based generator positioned at (stream, offset). */
export class Rng {
  readonly seed: number;
  readonly stream: number;
  /** Next block index to read. */
  offset: number;
  private readonly k0: number;
  private readonly k1: number;
  private readonly buf = new Uint32Array(4);

  constructor(seed: number, stream = 0, offset = 0) {
    checkIndex('seed', seed);
    checkIndex('stream', stream);
    checkIndex('offset', offset);
    this.seed = seed;
    this.stream = stream;
    this.offset = offset;
    this.k0 = seed % TWO32;
    this.k1 = Math.floor(seed / TWO32);
  }

  /** An independent generator on another stream of the same seed. */
  fork(stream: number): Rng {
    return new Rng(this.seed, stream, 0);
  }

  private block(): Uint32Array {
    const b = this.offset++;
    philox4x32(this.k0, this.k1, b % TWO32, Math.floor(b / TWO32), this.stream % TWO32, Math.floor(this.stream / TWO32), this.buf);
    return this.buf;
  }

  /** n uint32 words. */
  words(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i += 4) {
      const b = this.block();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = b[j] as number;
    }
    return out;
  }

  /** n uniforms in (0, 1). */
  uniform(n: number): Float64Array {
    const w = this.words(n);
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = u01(w[i] as number);
    return out;
  }

  /** n standard normals (float32 unless a Float64Array is asked for by dtype). */
  normal(n: number, dtype: 'float32' | 'float64' = 'float32'): Float32Array | Float64Array {
    const out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i += 4) {
      const b = this.block();
      for (let p = 0; p < 2; p++) {
        const r = Math.sqrt(-2 * Math.log(u01(b[2 * p] as number)));
        const th = 2 * Math.PI * u01(b[2 * p + 1] as number);
        if (i + 2 * p < n) out[i + 2 * p] = r * Math.cos(th);
        if (i + 2 * p + 1 < n) out[i + 2 * p + 1] = r * Math.sin(th);
      }
    }
    return out;
  }

  /** n integers uniform in [0, hi) (hi ≤ 2^32; multiply-shift, bias < hi / 2^32). */
  randint(n: number, hi: number): Int32Array {
    if (!Number.isInteger(hi) || hi <= 0 || hi > TWO32) throw new Error(`Rng.randint: hi must be in [1, 2^32], got ${hi}`);
    const w = this.words(n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(((w[i] as number) * hi) / TWO32);
    return out;
  }
}

/** The first n normals of stream `stream` of `seed` (e.g. the noise of sample `stream`). */
export function normalStream(seed: number, stream: number, n: number): Float32Array {
  return new Rng(seed, stream).normal(n) as Float32Array;
}
