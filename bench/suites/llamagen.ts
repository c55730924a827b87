// Suite `llamagen`: LlamaGen GPT-B teacher sampling (KV cache, CFG 2.0, top-k 8000) and VQ-16
// decoding with random weights at the real sizes, per backend, against the better PyTorch
// column of shared/PEERS.md (tuned for the GPT, default for the VQ decoder) (official code, torch 1.13 CPU, same kind of 2-core machine —
// not re-measured in this run). Rows marked "extrapolated" time a prefill plus N decode steps
// and scale to 256 tokens (attention over later positions is a small share of a GPT-B step).
// The `ts` reference backend runs a reduced form (few steps, a small VQ image).

import * as T from '../../src/tensor/index.js';
import type { Module } from '../../src/nn/module.js';
import { gptConfig } from '../../src/models/llamagen/config.js';
import { Transformer } from '../../src/models/llamagen/gpt.js';
import { VQModel } from '../../src/models/llamagen/vq.js';
import { decodeTokens, generate } from '../../src/models/llamagen/generate.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { availableBackends, withBackend } from '../backends.js';

const TORCH = 'pytorch tuned (PEERS.md)';
const TORCH_DEFAULT = 'pytorch default (PEERS.md)';
const TOKENS = 256;

/** Fast seeded fill (xorshift32 uniforms with the fixtures' std: embeddings 1, linear and conv
 *  weights 1/√fan_in, norms 1, biases 0.05). Values only matter for the sampling distribution. */
export function fillRandom(m: Module, seed: number): void {
  let s = seed >>> 0 || 1;
  for (const [name, t] of m.namedTensors()) {
    const d = t.data;
    if (name.endsWith('codebook_used')) continue;
    if (/norm[^.]*\.weight$/.test(name)) {
      d.fill(1);
      continue;
    }
    const std = name.includes('embedding')
      ? 1
      : t.rank === 1
        ? 0.05
        : 1 / Math.sqrt(t.size / (t.shape[0] as number));
    const a = std * Math.sqrt(3);
    for (let i = 0; i < d.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      d[i] = ((s >>> 0) / 4294967296 - 0.5) * 2 * a;
    }
  }
}

function labels(n: number): T.Tensor {
  return new T.Tensor(
    Int32Array.from({ length: n }, (_, i) => (207 + 97 * i) % 1000),
    [n],
  );
}

/** Seconds for a prefill + (steps − 1) decode steps of a batch, CFG 2.0, top-k 8000. */
export function genSeconds(gpt: Transformer, batch: number, steps: number, seed: number): number {
  const t0 = performance.now();
  generate(gpt, labels(batch), {
    cfgScale: 2,
    topK: 8000,
    topP: 1,
    temperature: 1,
    rng: new T.Rng(seed),
    maxNewTokens: steps,
  });
  return (performance.now() - t0) / 1000;
}

export const suite: BenchSuite = {
  name: 'llamagen (GPT-B teacher + VQ-16, random weights)',
  async run({ quick }): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const gpt = new Transformer(gptConfig('GPT-B'));
    fillRandom(gpt, 1);
    const vq = new VQModel();
    fillRandom(vq, 2);
    for (const b of availableBackends()) {
      const isRef = b.name === 'ts';
      const row = (name: string, value: number, unit: string, ref?: number, refName = TORCH) =>
        rows.push({
          suite: 'llamagen',
          name,
          backend: b.name,
          value,
          unit,
          ...(ref !== undefined ? { ref: { backend: refName, value: ref } } : {}),
        });
      await withBackend(b, () => {
        genSeconds(gpt, 1, 2, 0); // warm-up
        // Batch 1: a full 256-token image where affordable, else N steps extrapolated.
        const n1 = isRef || quick ? (isRef ? 4 : 32) : TOKENS;
        const s1 = genSeconds(gpt, 1, n1, 0);
        const tag1 = n1 === TOKENS ? '256-token run' : `${n1} steps, extrapolated`;
        row(`GPT-B decode step, batch 1, CFG (${tag1})`, (s1 / n1) * 1000, 'ms', 48.5);
        row(`GPT-B image, batch 1 (${tag1})`, (s1 / n1) * TOKENS, 's', 13.2);
        row(`GPT-B images/s, batch 1 (${tag1})`, n1 / (s1 * TOKENS), 'img/s', 1 / 13.2);
        // Batch 8: N decode steps extrapolated.
        const n8 = isRef ? 2 : quick ? 8 : 32;
        const s8 = genSeconds(gpt, 8, n8, 1);
        const tag8 = `${n8} steps, extrapolated`;
        row(
          `GPT-B decode step, batch 8, CFG (${tag8})`,
          (s8 / n8) * 1000,
          'ms',
          (32.3 / TOKENS) * 1000,
        );
        row(`GPT-B batch of 8 (${tag8})`, (s8 / n8) * TOKENS, 's', 32.3);
        row(`GPT-B images/s, batch 8 (${tag8})`, (8 * n8) / (s8 * TOKENS), 'img/s', 8 / 32.3);
        // VQ-16 decoder: 16×16×8 → 256×256 (ts: 2×2×8 → 32×32).
        const g = isRef ? 2 : 16;
        const codes = new T.Tensor(new T.Rng(3).randint(g * g, 16384), [1, g * g]);
        const t0 = performance.now();
        decodeTokens(vq, codes);
        const sv = (performance.now() - t0) / 1000;
        if (isRef) row(`VQ-16 decode 2×2×8 → 32×32, batch 1 (reduced)`, sv, 's');
        else row('VQ-16 decode 16×16×8 → 256×256, batch 1', sv, 's', 3.19, TORCH_DEFAULT); // the better column
      });
    }
    return rows;
  },
};
