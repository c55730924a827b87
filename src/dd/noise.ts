// The randomness of Distilled Decoding and the student's input, in one place for datagen, both
// families' samplers and the trainer.
//
// Stream layout (src/tensor/rng.ts; datasets depend on it):
//   noise ε of sample i of seed s       = the first L·d normals of Rng(s, stream 2i), [L, d] row-major
//   class of dataset sample i           = classes[randint(Rng(s, stream 2i + 1))]
//   teacher draws of a batch starting at i0 = Rng(s, stream 2·i0 + 1)
// so a sample gets the same ε whatever the batch size, shard split or backend.
//
// Student input ("data prefix + noise tail"): x[b, j] = data[b, j] for j < n_b, else ε[b, j];
// n_b = data tokens of sample b at its timestep (LlamaGen: t positions; VAR: the first t scales).

import { Rng } from '../tensor/rng.js';

/** One sample's identity in the noise stream: sample `index` of seed `seed`. */
export interface NoiseId {
  readonly seed: number;
  readonly index: number;
}

/** ε of sample i of `seed`: n normals. */
export function sampleNoise(seed: number, i: number, n: number): Float32Array {
  return new Rng(seed, 2 * i).normal(n) as Float32Array;
}

/** ε [B, n] of samples first … first + B − 1 of `seed`. */
export function batchNoise(seed: number, B: number, n: number, first = 0): Float32Array {
  const out = new Float32Array(B * n);
  for (let b = 0; b < B; b++) out.set(sampleNoise(seed, first + b, n), b * n);
  return out;
}

/** ε [B, n] of arbitrary samples (e.g. requests of different seeds batched together). */
export function noiseOf(ids: readonly NoiseId[], n: number): Float32Array {
  const out = new Float32Array(ids.length * n);
  ids.forEach((id, b) => out.set(sampleNoise(id.seed, id.index, n), b * n));
  return out;
}

/** The class of dataset sample i of `seed`, drawn uniformly from `classes`. */
export function sampleClass(seed: number, i: number, classes: readonly number[]): number {
  return classes[new Rng(seed, 2 * i + 1).randint(1, classes.length)[0]!]!;
}

/** The generator of the teacher draws of the batch whose first sample is `first`. */
export function teacherRng(seed: number, first = 0): Rng {
  return new Rng(seed, 2 * first + 1);
}

/** x [B, L, d]: the first nData[b] tokens of sample b from `data`, the rest from `noise`. */
export function perturbData(
  data: Float32Array,
  noise: Float32Array,
  nData: Int32Array,
  L: number,
  d: number,
): Float32Array {
  const B = nData.length;
  if (data.length !== B * L * d || noise.length !== B * L * d)
    throw new Error(
      `perturbData: data (${data.length} values) and noise (${noise.length}) must both be [${B}, ${L}, ${d}]`,
    );
  const x = new Float32Array(noise);
  for (let b = 0; b < B; b++) {
    const n = Math.min(L, Math.max(0, nData[b] as number));
    x.set(data.subarray(b * L * d, (b * L + n) * d), b * L * d);
  }
  return x;
}
