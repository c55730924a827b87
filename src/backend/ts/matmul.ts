// Reference batched GEMM (see MatmulParams). Loop order i-p-j keeps the inner loop contiguous
// for the common non-transposed B.

import type { F, MatmulParams } from '../kernels.js';

export function matmul(a: F, b: F, out: F, p: MatmulParams): void {
  const { batch, m, n, k, transA, transB, strideA, strideB, accumulate } = p;
  for (let t = 0; t < batch; t++) {
    const oa = t * strideA;
    const ob = t * strideB;
    const oc = t * m * n;
    if (!accumulate) out.fill(0, oc, oc + m * n);
    for (let i = 0; i < m; i++) {
      const row = oc + i * n;
      if (transB) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          const bj = ob + j * k;
          if (transA) for (let q = 0; q < k; q++) s += (a[oa + q * m + i] as number) * (b[bj + q] as number);
          else {
            const ai = oa + i * k;
            for (let q = 0; q < k; q++) s += (a[ai + q] as number) * (b[bj + q] as number);
          }
          out[row + j] = (out[row + j] as number) + s;
        }
      } else {
        for (let q = 0; q < k; q++) {
          const av = (transA ? a[oa + q * m + i] : a[oa + i * k + q]) as number;
          if (av === 0) continue;
          const bq = ob + q * n;
          for (let j = 0; j < n; j++) out[row + j] = (out[row + j] as number) + av * (b[bq + j] as number);
        }
      }
    }
  }
}
