// Preallocated per-layer key/value caches for incremental decoding. Keys and values are
// written in place at their sequence slots; attention then reads only the first `len` slots
// (T.sdpa's kvLength), so a decode step neither copies the cache nor attends unused slots.
// Only the H_kv key/value heads are stored (grouped-query attention expands them at attention
// time, with no copy).
//
// Letters: B batch (rows of the cache in use), Bc batch capacity, Hkv key/value heads,
// S new positions, Smax slot capacity, d head dim.

import { Tensor, narrow } from '../../tensor/index.js';

/** One layer's cache: k, v [Bc, Hkv, Smax, d]. */
export class LayerKVCache {
  readonly k: Tensor;
  readonly v: Tensor;

  constructor(batch: number, kvHeads: number, capacity: number, headDim: number) {
    this.k = new Tensor(new Float32Array(batch * kvHeads * capacity * headDim), [
      batch,
      kvHeads,
      capacity,
      headDim,
    ]);
    this.v = new Tensor(new Float32Array(batch * kvHeads * capacity * headDim), [
      batch,
      kvHeads,
      capacity,
      headDim,
    ]);
  }

  /** The first `batch` rows of k and v (views, no copy): [B, Hkv, Smax, d]. */
  rows(batch: number): [Tensor, Tensor] {
    if (batch === this.k.shape[0]) return [this.k, this.v];
    return [narrow(this.k, 0, 0, batch), narrow(this.v, 0, 0, batch)];
  }
}

/** The caches of every layer plus the number of filled slots. */
export class KVCache {
  readonly layers: LayerKVCache[];
  readonly batchCapacity: number;
  readonly capacity: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Rows in use (≤ batchCapacity), set by `reset`. */
  batch: number;
  /** Filled slots: positions 0..len−1 hold keys and values. */
  len = 0;

  constructor(nLayer: number, batch: number, kvHeads: number, capacity: number, headDim: number) {
    this.batchCapacity = batch;
    this.batch = batch;
    this.capacity = capacity;
    this.kvHeads = kvHeads;
    this.headDim = headDim;
    this.layers = [];
    for (let i = 0; i < nLayer; i++)
      this.layers.push(new LayerKVCache(batch, kvHeads, capacity, headDim));
  }

  /** True when this cache can serve `batch` rows of `capacity` slots with these head sizes. */
  fits(nLayer: number, batch: number, kvHeads: number, capacity: number, headDim: number): boolean {
    return (
      this.layers.length === nLayer &&
      this.batchCapacity >= batch &&
      this.capacity >= capacity &&
      this.kvHeads === kvHeads &&
      this.headDim === headDim
    );
  }

  /** Starts a new sequence of `batch` rows (old contents are never read again: len = 0). */
  reset(batch: number): void {
    if (batch > this.batchCapacity) {
      throw new Error(
        `KVCache: batch ${batch} exceeds the cache's ${this.batchCapacity} rows; allocate a larger cache`,
      );
    }
    this.batch = batch;
    this.len = 0;
  }

  /** Checks that S new positions starting at `pos` fit and follow the filled slots. */
  checkWrite(pos: number, s: number): void {
    if (pos !== this.len) {
      throw new Error(
        `KVCache: writing position ${pos} but ${this.len} slots are filled; positions must be fed in order`,
      );
    }
    if (pos + s > this.capacity) {
      throw new Error(
        `KVCache: positions ${pos}..${pos + s - 1} exceed the cache capacity of ${this.capacity} slots`,
      );
    }
  }
}

/** Rotates one head vector of length d in place-free fashion: dst[o..] = rope(src[i..]) with
 *  table row t (d/2 (cos, sin) pairs), all in float32 as torch does it. */
function rotate(
  src: Float32Array,
  si: number,
  table: Float32Array,
  ti: number,
  dst: Float32Array,
  di: number,
  d: number,
): void {
  for (let n = 0; n < d; n += 2) {
    const c = table[ti + n] as number;
    const s = table[ti + n + 1] as number;
    const x0 = src[si + n] as number;
    const x1 = src[si + n + 1] as number;
    dst[di + n] = Math.fround(x0 * c) - Math.fround(x1 * s);
    dst[di + n + 1] = Math.fround(x1 * c) + Math.fround(x0 * s);
  }
}

/** Splits fused qkv rows, applies RoPE to q and k, returns q [B, H, S, d] and writes k, v
 *  into the cache slots pos..pos+S−1 of `layer`.
 *  qkv: [B·S, (H + 2·Hkv)·d] (rows b-major); table: RoPE rows for positions pos..pos+S−1,
 *  [S, d/2, 2]. */
export function ropeAndStore(
  qkv: Float32Array,
  table: Float32Array,
  layer: LayerKVCache,
  batch: number,
  s: number,
  heads: number,
  kvHeads: number,
  d: number,
  pos: number,
): Tensor {
  const q = new Float32Array(batch * heads * s * d);
  const kd = layer.k.data as Float32Array;
  const vd = layer.v.data as Float32Array;
  const cap = layer.k.shape[2] as number;
  const width = (heads + 2 * kvHeads) * d;
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < s; i++) {
      const row = (b * s + i) * width;
      const ti = i * d; // table row i: d/2 pairs × 2
      for (let h = 0; h < heads; h++)
        rotate(qkv, row + h * d, table, ti, q, ((b * heads + h) * s + i) * d, d);
      for (let g = 0; g < kvHeads; g++) {
        const slot = ((b * kvHeads + g) * cap + pos + i) * d;
        rotate(qkv, row + (heads + g) * d, table, ti, kd, slot, d);
        vd.set(
          qkv.subarray(row + (heads + kvHeads + g) * d, row + (heads + kvHeads + g + 1) * d),
          slot,
        );
      }
    }
  }
  return new Tensor(q, [batch, heads, s, d]);
}
