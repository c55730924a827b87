// Fixtures for tests of the metrics: a random LPIPS network of any width.

import * as T from '../tensor/index.js';
import { LPIPS, type LpipsConfig } from './lpips.js';

/** He-normal conv weights, small biases and non-negative lin weights (as trained LPIPS has),
 *  drawn from Rng(seed, 7). */
export function randomLpips(cfg: LpipsConfig, seed: number): LPIPS {
  const m = new LPIPS(cfg);
  const rng = new T.Rng(seed, 7);
  for (const [name, t] of m.stateDict()) {
    const z = rng.normal(t.size);
    const [, cin = 1, kh = 1, kw = 1] = t.shape;
    const lin = name.startsWith('lin');
    const std = lin ? 0.5 : name.endsWith('bias') ? 0.1 : Math.sqrt(2 / (cin * kh * kw));
    t.data.set(z.map((v) => (lin ? Math.abs(v) : v) * std));
  }
  return m;
}
