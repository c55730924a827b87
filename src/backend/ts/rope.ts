// Reference rotary embedding over interleaved pairs (see RopeParams).

import type { F, RopeParams } from '../kernels.js';

export function rope(x: F, table: F, out: F, p: RopeParams): void {
  const { batch, seq, heads, dim, inverse } = p;
  const half = dim / 2;
  const sgn = inverse ? -1 : 1;
  for (let b = 0; b < batch; b++) {
    for (let l = 0; l < seq; l++) {
      const tb = l * half * 2;
      for (let h = 0; h < heads; h++) {
        const off = ((b * seq + l) * heads + h) * dim;
        for (let i = 0; i < half; i++) {
          const c = table[tb + 2 * i] as number;
          const s = sgn * (table[tb + 2 * i + 1] as number);
          const x0 = x[off + 2 * i] as number;
          const x1 = x[off + 2 * i + 1] as number;
          out[off + 2 * i] = x0 * c - x1 * s;
          out[off + 2 * i + 1] = x0 * s + x1 * c;
        }
      }
    }
  }
}
