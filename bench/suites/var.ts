// Suite `var`: VAR-d16 teacher sampling (per scale with an in-place KV cache, CFG 2.0 by batch
// doubling, top-k 900, top-p 0.96, no decode) at batch 1 and 8, and the VQVAE decoder
// (16×16×32 → 256×256), random weights at the real sizes, per backend, against the tuned
// PyTorch numbers of shared/PEERS.md (official code, torch 1.13 CPU, same kind of 2-core
// machine — not re-measured in this run). The `ts` reference backend runs reduced sizes, named
// as such in the row (a full d16 image takes minutes on plain-TS matmuls).

import * as T from '../../src/tensor/index.js';
import { varPreset, VQVAE_CH160V4096Z32, type VarConfig } from '../../src/models/var/config.js';
import { generate } from '../../src/models/var/generate.js';
import { randomInit_ } from '../../src/nn/init.js';
import { VAR } from '../../src/models/var/var.js';
import { VQVAE } from '../../src/models/var/vqvae.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { availableBackends, withBackend } from '../backends.js';

const TORCH = 'pytorch tuned (PEERS.md)';
const TEACHER_S = 5.47; // VAR-d16, CFG 2.0, top-k 900, top-p 0.96, batch 1, no decode
const DECODE_S = 1.92; // VQVAE decode, batch 1

function labels(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => (207 + 97 * i) % 1000);
}

/** Seconds to sample a batch (all scales, no decode). */
function sampleSeconds(model: VAR, vae: VQVAE, batch: number, seed: number): number {
  const t0 = performance.now();
  generate(model, vae.quantize, {
    labels: labels(batch),
    cfg: 2,
    topK: 900,
    topP: 0.96,
    rng: new T.Rng(seed),
  });
  return (performance.now() - t0) / 1000;
}

/** Seconds to decode one f̂ of side `hw`. */
function decodeSeconds(vae: VQVAE, hw: number): number {
  const fhat = new T.Tensor(new T.Rng(5).normal(32 * hw * hw) as Float32Array, [1, 32, hw, hw]);
  const t0 = performance.now();
  vae.fhatToImg(fhat);
  return (performance.now() - t0) / 1000;
}

export const suite: BenchSuite = {
  name: 'var (VAR-d16 teacher + VQVAE, random weights)',
  async run({ quick }): Promise<BenchRow[]> {
    const rows: BenchRow[] = [];
    const full = randomInit_(new VAR(varPreset(16)), new T.Rng(1), { fast: true });
    // ts: depth 2, width 256 (4 heads), the 10-scale 256 px schedule and V = 4096.
    const smallCfg: VarConfig = varPreset(16, { depth: 2, embed_dim: 256, num_heads: 4 });
    const small = randomInit_(new VAR(smallCfg), new T.Rng(1), { fast: true });
    const vae = randomInit_(new VQVAE(VQVAE_CH160V4096Z32), new T.Rng(2), { fast: true });
    for (const b of availableBackends()) {
      const isRef = b.name === 'ts';
      const row = (name: string, value: number, unit: string, ref?: number) =>
        rows.push({
          suite: 'var',
          name,
          backend: b.name,
          value,
          unit,
          ...(ref !== undefined ? { ref: { backend: TORCH, value: ref } } : {}),
        });
      await withBackend(b, () => {
        if (isRef) {
          const s = sampleSeconds(small, vae, 1, 0);
          row('VAR depth 2 width 256 (reduced), batch 1, CFG, 680 tokens', s, 's');
          const d = decodeSeconds(vae, 2);
          row('VQVAE decode 2×2×32 → 32×32 (reduced), batch 1', d, 's');
          return;
        }
        sampleSeconds(full, vae, 1, 9); // warm-up (allocations, addon, JIT)
        const s1 = sampleSeconds(full, vae, 1, 0);
        row('VAR-d16 image, batch 1, CFG 2, top-k 900, top-p 0.96', s1, 's', TEACHER_S);
        row('VAR-d16 images/s, batch 1', 1 / s1, 'img/s', 1 / TEACHER_S);
        if (!quick) {
          const s8 = sampleSeconds(full, vae, 8, 1);
          row('VAR-d16 batch of 8, CFG 2, top-k 900, top-p 0.96', s8, 's');
          row('VAR-d16 images/s, batch 8', 8 / s8, 'img/s', 1 / TEACHER_S);
        }
        decodeSeconds(vae, 16); // warm-up
        const d = decodeSeconds(vae, 16);
        row('VQVAE decode 16×16×32 → 256×256, batch 1', d, 's', DECODE_S);
      });
    }
    return rows;
  },
};
