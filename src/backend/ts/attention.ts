// Reference scaled-dot-product attention forward and backward (see AttentionParams).
// One query row at a time: scores for that row, masked softmax, weighted sum of values.

import type { AttentionParams, F } from '../kernels.js';

/** Fills `row` (length lk) with the masked, scaled scores of query i of (b, h); returns the max. */
function scoreRow(q: F, k: F, p: AttentionParams, b: number, h: number, i: number, row: Float64Array): number {
  const { heads, kvHeads, lq, lk, kvCap, dim, scale, qLevel, kLevel, bias } = p;
  const g = Math.floor(h / (heads / kvHeads));
  const qo = ((b * heads + h) * lq + i) * dim;
  const kb = (b * kvHeads + g) * kvCap * dim;
  const ql = qLevel ? (qLevel[i] as number) : 0;
  const bo = bias ? b * p.biasStrideB + h * p.biasStrideH + i * lk : 0;
  let m = -Infinity;
  for (let j = 0; j < lk; j++) {
    if (qLevel && kLevel && (kLevel[j] as number) > ql) {
      row[j] = -Infinity;
      continue;
    }
    let s = 0;
    const ko = kb + j * dim;
    for (let d = 0; d < dim; d++) s += (q[qo + d] as number) * (k[ko + d] as number);
    s *= scale;
    if (bias) s += bias[bo + j] as number;
    row[j] = s;
    if (s > m) m = s;
  }
  return m;
}

export function sdpa(q: F, k: F, v: F, out: F, lse: F | null, p: AttentionParams): void {
  const { batch, heads, kvHeads, lq, lk, kvCap, dimV } = p;
  const row = new Float64Array(lk);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const vb = (b * kvHeads + g) * kvCap * dimV;
      for (let i = 0; i < lq; i++) {
        const m = scoreRow(q, k, p, b, h, i, row);
        const oo = ((b * heads + h) * lq + i) * dimV;
        const li = (b * heads + h) * lq + i;
        if (m === -Infinity) {
          out.fill(0, oo, oo + dimV);
          if (lse) lse[li] = -Infinity;
          continue;
        }
        let s = 0;
        for (let j = 0; j < lk; j++) {
          const e = Math.exp((row[j] as number) - m);
          row[j] = e;
          s += e;
        }
        if (lse) lse[li] = m + Math.log(s);
        const inv = 1 / s;
        for (let d = 0; d < dimV; d++) out[oo + d] = 0;
        for (let j = 0; j < lk; j++) {
          const w = (row[j] as number) * inv;
          if (w === 0) continue;
          const vo = vb + j * dimV;
          for (let d = 0; d < dimV; d++) out[oo + d] = (out[oo + d] as number) + w * (v[vo + d] as number);
        }
      }
    }
  }
}

export function sdpaBackward(
  q: F,
  k: F,
  v: F,
  out: F,
  lse: F,
  dout: F,
  dq: F,
  dk: F,
  dv: F,
  dBias: F | null,
  p: AttentionParams,
): void {
  const { batch, heads, kvHeads, lq, lk, kvCap, dim, dimV, scale } = p;
  const row = new Float64Array(lk);
  dq.fill(0);
  dk.fill(0);
  dv.fill(0);
  if (dBias) dBias.fill(0);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const g = Math.floor(h / (heads / kvHeads));
      const kb = (b * kvHeads + g) * kvCap * dim;
      const vb = (b * kvHeads + g) * kvCap * dimV;
      const dkb = (b * kvHeads + g) * lk * dim;
      const dvb = (b * kvHeads + g) * lk * dimV;
      for (let i = 0; i < lq; i++) {
        const li = (b * heads + h) * lq + i;
        const l = lse[li] as number;
        if (l === -Infinity) continue;
        scoreRow(q, k, p, b, h, i, row);
        const qo = li * dim;
        const oo = li * dimV;
        let dsum = 0;
        for (let d = 0; d < dimV; d++) dsum += (dout[oo + d] as number) * (out[oo + d] as number);
        for (let j = 0; j < lk; j++) {
          const pj = Math.exp((row[j] as number) - l);
          if (pj === 0) continue;
          const vo = vb + j * dimV;
          let dp = 0;
          for (let d = 0; d < dimV; d++) {
            const go = dout[oo + d] as number;
            dp += go * (v[vo + d] as number);
            dv[dvb + j * dimV + d] = (dv[dvb + j * dimV + d] as number) + pj * go;
          }
          const ds = pj * (dp - dsum);
          if (dBias) dBias[li * lk + j] = ds;
          const ko = kb + j * dim;
          const dko = dkb + j * dim;
          for (let d = 0; d < dim; d++) {
            dq[qo + d] = (dq[qo + d] as number) + scale * ds * (k[ko + d] as number);
            dk[dko + d] = (dk[dko + d] as number) + scale * ds * (q[qo + d] as number);
          }
        }
      }
    }
  }
}
