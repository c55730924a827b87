// Suite `attention`: the fused sdpa kernel at GPT-B shapes (B=1, 12 heads, head dim 64):
// causal forward and backward over 257 tokens, a single-query decode step against a
// 257-long KV cache (kvCap 320, attended in place), and a CFG batch of 2. Median ms per call;
// native rows carry the ts time as their reference (ratio = native time / ts time).

import type { AttentionParams, Backend } from '../../src/backend/kernels.js';
import { availableBackends } from '../backends.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { medianSeconds, randomF32 } from './gemm.js';

interface Case {
  readonly name: string;
  readonly p: AttentionParams;
  readonly backward: boolean;
}

function causal(
  batch: number,
  lq: number,
  lk: number,
  kvCap: number,
  backward: boolean,
  name: string,
): Case {
  const qLevel = Int32Array.from({ length: lq }, (_, i) => lk - lq + i);
  const kLevel = Int32Array.from({ length: lk }, (_, i) => i);
  return {
    name,
    backward,
    p: {
      batch,
      heads: 12,
      kvHeads: 12,
      lq,
      lk,
      kvCap,
      dim: 64,
      dimV: 64,
      scale: 0.125,
      qLevel,
      kLevel,
      bias: null,
      biasStrideB: 0,
      biasStrideH: 0,
    },
  };
}

function cases(quick: boolean): Case[] {
  const L = quick ? 129 : 257;
  return [
    causal(1, L, L, L, false, `fwd causal B=1 H=12 L=${L} D=64`),
    causal(1, L, L, L, true, `bwd causal B=1 H=12 L=${L} D=64`),
    causal(1, 1, 257, 320, false, 'decode 1 query vs 257-long cache'),
    causal(2, 1, 257, 320, false, 'decode CFG B=2, 1 query vs 257'),
    ...(quick ? [] : [causal(8, L, L, L, false, `fwd causal B=8 H=12 L=${L} D=64`)]),
  ];
}

function ms(b: Backend, c: Case, reps: number): number {
  const { p } = c;
  const nq = p.batch * p.heads * p.lq;
  const q = randomF32(nq * p.dim, 1);
  const k = randomF32(p.batch * p.kvHeads * p.kvCap * p.dim, 2);
  const v = randomF32(p.batch * p.kvHeads * p.kvCap * p.dimV, 3);
  const out = new Float32Array(nq * p.dimV);
  const lse = new Float32Array(nq);
  if (!c.backward) return medianSeconds(() => b.sdpa(q, k, v, out, lse, p), reps) * 1e3;
  b.sdpa(q, k, v, out, lse, p);
  const dout = randomF32(nq * p.dimV, 4);
  const dq = new Float32Array(nq * p.dim);
  const dk = new Float32Array(p.batch * p.kvHeads * p.lk * p.dim);
  const dv = new Float32Array(p.batch * p.kvHeads * p.lk * p.dimV);
  return (
    medianSeconds(() => b.sdpaBackward(q, k, v, out, lse, dout, dq, dk, dv, null, p), reps) * 1e3
  );
}

export const suite: BenchSuite = {
  name: 'attention',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const backends = availableBackends();
    for (const c of cases(quick)) {
      const times = new Map<string, number>();
      for (const b of backends) times.set(b.name, ms(b, c, b.name === 'ts' ? 3 : quick ? 3 : 9));
      const ts = times.get('ts');
      for (const [backend, value] of times) {
        const ref =
          backend !== 'ts' && ts !== undefined ? { ref: { backend: 'ts', value: ts } } : {};
        rows.push({ suite: 'attention', name: c.name, backend, value, unit: 'ms', ...ref });
      }
    }
    return rows;
  },
};
