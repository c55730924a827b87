// Suite `flow`: the per-token cost of the DD flow map (V = 16384, d = 8, p = softmax of
// top-k 8000 logits, the default Heun 16-step integrator) next to the per-token cost of a
// GPT-B teacher decode step (batch 8, CFG 2.0) in the same run: data generation pays both, and
// the flow map must not be its bottleneck. Both backends compute bit-identical flow maps.

import { DEFAULT_FLOW, flowMap } from '../../src/dd/flow.js';
import { gptConfig } from '../../src/models/llamagen/config.js';
import { Transformer } from '../../src/models/llamagen/gpt.js';
import { filteredProbs } from '../../src/sampling/fused.js';
import * as T from '../../src/tensor/index.js';
import { availableBackends, withBackend } from '../backends.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { fillRandom, genSeconds } from './llamagen.js';

export const suite: BenchSuite = {
  name: 'flow',
  async run({ quick }): Promise<BenchRow[]> {
    const V = 16384;
    const d = 8;
    const N = quick ? 16 : 64;
    const rng = new T.Rng(5);
    const logits = rng.normal(N * V) as Float32Array;
    for (let i = 0; i < logits.length; i++) logits[i] = (logits[i] as number) * 3;
    const probs = filteredProbs(logits, N, V, { topK: 8000, rule: 'llamagen' });
    const codebook = rng.normal(V * d) as Float32Array;
    for (let k = 0; k < V; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (codebook[k * d + j] as number) ** 2;
      for (let j = 0; j < d; j++)
        codebook[k * d + j] = (codebook[k * d + j] as number) / Math.sqrt(s);
    }
    const noise = rng.normal(N * d) as Float32Array;
    const rows: BenchRow[] = [];
    const gpt = new Transformer(gptConfig('GPT-B'));
    fillRandom(gpt, 1);
    for (const b of availableBackends()) {
      if (b.name === 'ts' && !quick && availableBackends().length > 1) {
        // a GPT-B step on the reference kernels takes seconds: time only the flow map there
        await withBackend(b, () => {
          const t0 = performance.now();
          flowMap(probs, codebook, noise, V, d, DEFAULT_FLOW);
          rows.push({
            suite: 'flow',
            name: `flow map per token (V ${V}, d ${d}, top-k 8000, ${DEFAULT_FLOW.solver} ${DEFAULT_FLOW.steps} steps)`,
            backend: b.name,
            value: (performance.now() - t0) / N,
            unit: 'ms/token',
          });
        });
        continue;
      }
      await withBackend(b, () => {
        flowMap(probs.subarray(0, 2 * V), codebook, noise.subarray(0, 2 * d), V, d); // warm-up
        const t0 = performance.now();
        flowMap(probs, codebook, noise, V, d, DEFAULT_FLOW);
        const flowMs = (performance.now() - t0) / N;
        const B = 8;
        const steps = quick ? 3 : 9;
        genSeconds(gpt, B, 2, 0); // warm-up
        const many = genSeconds(gpt, B, steps, 1);
        const one = genSeconds(gpt, B, 1, 2);
        const perToken = ((many - one) / (steps - 1) / B) * 1000;
        rows.push({
          suite: 'flow',
          name: 'GPT-B decode step per token (batch 8, CFG 2.0, top-k 8000)',
          backend: b.name,
          value: perToken,
          unit: 'ms/token',
        });
        rows.push({
          suite: 'flow',
          name: `flow map per token (V ${V}, d ${d}, top-k 8000, ${DEFAULT_FLOW.solver} ${DEFAULT_FLOW.steps} steps)`,
          backend: b.name,
          value: flowMs,
          unit: 'ms/token',
          ref: { backend: `GPT-B decode/token on ${b.name}`, value: perToken },
        });
      });
    }
    return rows;
  },
};
