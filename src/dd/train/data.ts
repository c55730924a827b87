// Training batches from a datagen dataset, in a deterministic order: the last `valSamples`
// samples are held out; the other N form the training set, visited epoch by epoch, epoch e in
// the order of a Fisher–Yates permutation drawn from Rng(seed, stream e). Example p of the run
// (p = step·B + i) is training sample perm_{⌊p/N⌋}[p mod N], so batch s depends on (seed, s)
// alone: a resumed run needs only its step count. Timesteps of step s: one uniform choice per
// sample from the timestep list, drawn from Rng(seed, stream 2^40 + s). Chunks are read on
// demand and kept in a small LRU cache (random access over the permutation).
//
// Letters: B batch, L tokens, d codebook dim.

import { Rng } from '../../tensor/rng.js';
import type { Chunk, Dataset } from '../dataset.js';

export interface Batch {
  /** Dataset sample ids [B]. */
  readonly sample: Int32Array;
  readonly classes: Int32Array; // [B]
  readonly tokens: Int32Array; // [B, L]
  readonly noise: Float32Array; // [B, L, d]
}

const TIMESTEP_STREAM = 2 ** 40;

/** Fisher–Yates permutation of 0 … n−1 from rng (one uniform per swap). */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const u = rng.uniform(n);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((u[i] as number) * (i + 1));
    const tmp = p[i] as number;
    p[i] = p[j] as number;
    p[j] = tmp;
  }
  return p;
}

/** Timestep of every sample of step `step`: uniform over `list`. */
export function stepTimesteps(
  seed: number,
  step: number,
  B: number,
  list: readonly number[],
): Int32Array {
  const pick = new Rng(seed, TIMESTEP_STREAM + step).randint(B, list.length);
  return pick.map((i) => list[i] as number);
}

export class TrainData {
  readonly numTrain: number;
  readonly numVal: number;
  readonly seqLen: number;
  readonly codeDim: number;
  private readonly firsts: Int32Array;
  private readonly cache = new Map<number, Chunk>();
  private perm: { epoch: number; order: Int32Array } | null = null;

  constructor(
    readonly dataset: Dataset,
    readonly seed: number,
    valSamples: number,
    private readonly cacheSize = 32,
  ) {
    const n = dataset.numSamples;
    if (valSamples >= n)
      throw new Error(
        `train data: valSamples ${valSamples} leaves no training samples of the ${n} in ${dataset.dir}; lower valSamples`,
      );
    this.numVal = valSamples;
    this.numTrain = n - valSamples;
    this.seqLen = dataset.seqLen;
    this.codeDim = dataset.codeDim;
    this.firsts = Int32Array.from(dataset.index.chunks, (c) => c.first);
  }

  /** Epoch and position in it of example p of the run. */
  position(p: number): { epoch: number; index: number } {
    return { epoch: Math.floor(p / this.numTrain), index: p % this.numTrain };
  }

  private order(epoch: number): Int32Array {
    if (this.perm?.epoch !== epoch)
      this.perm = { epoch, order: permutation(this.numTrain, new Rng(this.seed, epoch)) };
    return this.perm.order;
  }

  /** Training batch of step `step` (B samples). */
  trainBatch(step: number, B: number): Batch {
    const ids = new Int32Array(B);
    for (let i = 0; i < B; i++) {
      const { epoch, index } = this.position(step * B + i);
      ids[i] = this.order(epoch)[index] as number;
    }
    return this.gather(ids);
  }

  /** Held-out samples [from, to) of the validation set (sample ids numTrain + …). */
  valBatch(from: number, to: number): Batch {
    const n = Math.min(to, this.numVal) - from;
    return this.gather(
      Int32Array.from({ length: Math.max(0, n) }, (_, i) => this.numTrain + from + i),
    );
  }

  /** Samples by id, in the given order. */
  gather(ids: Int32Array): Batch {
    const L = this.seqLen;
    const d = this.codeDim;
    const B = ids.length;
    const out: Batch = {
      sample: ids.slice(),
      classes: new Int32Array(B),
      tokens: new Int32Array(B * L),
      noise: new Float32Array(B * L * d),
    };
    for (let i = 0; i < B; i++) {
      const id = ids[i] as number;
      const ci = this.chunkOf(id);
      const c = this.chunk(ci);
      const k = id - (this.firsts[ci] as number);
      out.classes[i] = c.classes[k] as number;
      out.tokens.set(c.tokens.subarray(k * L, (k + 1) * L), i * L);
      out.noise.set(c.noise.subarray(k * L * d, (k + 1) * L * d), i * L * d);
    }
    return out;
  }

  private chunkOf(id: number): number {
    let lo = 0;
    let hi = this.firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.firsts[mid] as number) <= id) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private chunk(i: number): Chunk {
    const hit = this.cache.get(i);
    if (hit) {
      this.cache.delete(i);
      this.cache.set(i, hit);
      return hit;
    }
    const c = this.dataset.readChunk(i);
    this.cache.set(i, c);
    if (this.cache.size > this.cacheSize)
      this.cache.delete(this.cache.keys().next().value as number);
    return c;
  }
}
