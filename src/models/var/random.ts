// Random weights for VAR and VQVAE (tests, benchmarks, demos without a checkpoint), drawn from
// an explicit Rng in the spirit of the parity fixtures: embeddings N(0, 1), positions
// N(0, 0.3²), weights N(0, 1/fan_in), biases N(0, 0.1²), norm weights 1 + N(0, 0.1²),
// attention temperatures log 4 + N(0, 0.3²). Nothing is zero or identity-like.

import type { Module } from '../../nn/module.js';
import type { Rng } from '../../tensor/rng.js';

export interface RandomInitOptions {
  /** Tile every tensor from one table of 65 537 normals at a random offset instead of drawing
   *  each value (benchmarks of full-size models: seconds instead of a minute; not for tests
   *  of statistics). */
  readonly fast?: boolean;
}

const TABLE = 65537;

/** Overwrites every parameter of m in place (buffers are left alone); returns m. */
export function randomInit_<M extends Module>(m: M, rng: Rng, opts: RandomInitOptions = {}): M {
  const table = opts.fast ? rng.normal(TABLE) : null;
  for (const [name, t] of m.namedParameters()) {
    const d = t.data;
    if (d instanceof Int32Array) continue;
    let mean = 0;
    let std: number;
    if (/(class_emb|lvl_embed|embedding)\.weight$/.test(name)) std = 1;
    else if (/pos_start$|pos_1LC$/.test(name)) std = 0.3;
    else if (name.endsWith('scale_mul_1H11')) {
      mean = Math.log(4);
      std = 0.3;
    } else if (/norm\w*\.weight$/.test(name)) {
      mean = 1;
      std = 0.1;
    } else if (name.endsWith('weight') && t.rank >= 2) {
      std = 1 / Math.sqrt(t.size / (t.shape[0] as number));
    } else std = 0.1;
    if (table) {
      let o = rng.randint(1, TABLE)[0] as number;
      for (let i = 0; i < d.length; i++) {
        d[i] = mean + std * (table[o] as number);
        o = o + 1 === TABLE ? 0 : o + 1;
      }
      continue;
    }
    const z = rng.normal(d.length);
    for (let i = 0; i < d.length; i++) d[i] = mean + std * (z[i] as number);
  }
  return m;
}
