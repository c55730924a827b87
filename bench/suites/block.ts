// Suite `block`: one pre-norm transformer block (RMSNorm, causal attention with RoPE, SwiGLU
// MLP; GPT-B width 768, 12 heads, FFN 2048) forward and forward+backward, per backend.

import * as T from '../../src/tensor/index.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { availableBackends, timeMs, withBackend } from '../backends.js';

interface BlockParams {
  wqkv: T.Tensor;
  wo: T.Tensor;
  w1: T.Tensor;
  w3: T.Tensor;
  w2: T.Tensor;
  n1: T.Tensor;
  n2: T.Tensor;
  rope: T.Tensor;
}

const D = 768;
const H = 12;
const F = 2048;

function randParam(rng: T.Rng, shape: number[], std: number): T.Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const d = rng.normal(n) as Float32Array;
  for (let i = 0; i < n; i++) d[i] = (d[i] as number) * std;
  return new T.Tensor(d, shape).requireGrad();
}

function makeParams(L: number): BlockParams {
  const rng = new T.Rng(0);
  const table = new Float32Array(L * (D / H / 2) * 2);
  for (let i = 0; i < table.length / 2; i++) {
    table[2 * i] = Math.cos(i * 0.01);
    table[2 * i + 1] = Math.sin(i * 0.01);
  }
  return {
    wqkv: randParam(rng, [3 * D, D], 0.02),
    wo: randParam(rng, [D, D], 0.02),
    w1: randParam(rng, [F, D], 0.02),
    w3: randParam(rng, [F, D], 0.02),
    w2: randParam(rng, [D, F], 0.02),
    n1: T.ones([D]).requireGrad(),
    n2: T.ones([D]).requireGrad(),
    rope: new T.Tensor(table, [L, D / H / 2, 2]),
  };
}

/** x [B, L, D] → [B, L, D]. */
export function block(p: BlockParams, x: T.Tensor): T.Tensor {
  const [B, L] = x.shape as [number, number, number];
  const h = T.rmsNorm(x, p.n1, 1e-5);
  const qkv = T.matmul(h, p.wqkv, { transB: true });
  const [q, k, v] = T.split(qkv, D, 2) as [T.Tensor, T.Tensor, T.Tensor];
  const heads = (t: T.Tensor) => T.reshape(t, [B, L, H, D / H]);
  const qh = T.transpose(T.rope(heads(q), p.rope), 1, 2);
  const kh = T.transpose(T.rope(heads(k), p.rope), 1, 2);
  const vh = T.transpose(heads(v), 1, 2);
  const a = T.sdpa(qh, kh, vh, { mask: { kind: 'causal' } });
  const merged = T.reshape(T.transpose(a, 1, 2), [B, L, D]);
  const x1 = T.add(x, T.matmul(merged, p.wo, { transB: true }));
  const h2 = T.rmsNorm(x1, p.n2, 1e-5);
  const ff = T.mul(T.silu(T.matmul(h2, p.w1, { transB: true })), T.matmul(h2, p.w3, { transB: true }));
  return T.add(x1, T.matmul(ff, p.w2, { transB: true }));
}

export const suite: BenchSuite = {
  name: 'block',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const B = 1;
    const L = quick ? 32 : 128;
    const p = makeParams(L);
    const x = new T.Tensor(new T.Rng(1).normal(B * L * D) as Float32Array, [B, L, D]);
    for (const be of availableBackends()) {
      const reps = be.name === 'ts' ? 1 : 5;
      await withBackend(be, async () => {
        const fwd = await timeMs(() => T.noGrad(() => block(p, x)), reps);
        const fb = await timeMs(() => {
          const y = block(p, x);
          T.backward(T.sum(y));
        }, reps);
        rows.push({ suite: 'block', name: `fwd B=${B} L=${L} D=${D}`, backend: be.name, value: fwd, unit: 'ms' });
        rows.push({ suite: 'block', name: `fwd+bwd B=${B} L=${L} D=${D}`, backend: be.name, value: fb, unit: 'ms' });
      });
    }
    return rows;
  },
};
