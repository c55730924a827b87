// Suite `dd-train`: one DD training step (Trainer.trainStep: batch gather, input building,
// forward, CE + MSE loss, backward, gradient clipping, AdamW, EMA update) of a random-weight
// LlamaGen DD student, in seconds per step, at batch 8 with timesteps [0, 80]. Native runs the
// real GPT-B size (12 layers, width 768, 256 tokens, V 16384, codebook dim 8); the ts reference
// and --quick run a reduced size (2 layers, width 128, 8×8 tokens, V 1024).
//
// Same-machine PyTorch reference (PEERS.md, torch 1.13, 2 cores): DD GPT-B training step at
// batch 8 (forward, backward, AdamW) 14.4 s (default) / 15.0 s (tuned): the target is ≤ 7.2 s.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATASET_FORMAT, type DatasetIndex } from '../../src/dd/datagen.js';
import type { Dataset } from '../../src/dd/dataset.js';
import { ddConfig, type DDConfig } from '../../src/dd/students/llamagen/config.js';
import { DDTransformer, randomizeDD } from '../../src/dd/students/llamagen/student.js';
import { DEFAULT_FLOW } from '../../src/dd/flow.js';
import { parseTrainConfig } from '../../src/dd/train/config.js';
import { wrapLlamagen } from '../../src/dd/train/student.js';
import { Trainer } from '../../src/dd/train/trainer.js';
import { Rng } from '../../src/tensor/rng.js';
import { availableBackends, timeMs, withBackend } from '../backends.js';
import type { BenchRow, BenchSuite } from '../types.js';

const PYTORCH_STEP_S = 14.4;

/** An in-memory dataset of n random pairs (one chunk). */
function memoryDataset(n: number, L: number, d: number, V: number, classes: number): Dataset {
  const rng = new Rng(7);
  const chunk = {
    sample: Int32Array.from({ length: n }, (_, i) => i),
    classes: rng.randint(n, classes),
    tokens: rng.randint(n * L, V),
    noise: rng.normal(n * L * d) as Float32Array,
  };
  const index: DatasetIndex = {
    format: DATASET_FORMAT,
    teacher: { name: 'random', checkpointSha256: '', settings: {} },
    config: {
      seed: 0,
      numSamples: n,
      chunkSize: n,
      batchSize: n,
      storeNoise: 'f32',
      flow: DEFAULT_FLOW,
    },
    seqLen: L,
    codeDim: d,
    numSamples: n,
    chunks: [{ file: 'memory', path: 'memory', first: 0, count: n, sha256: '', noiseSha256: '' }],
  };
  return { dir: '(memory)', index, numSamples: n, seqLen: L, codeDim: d, readChunk: () => chunk };
}

export const suite: BenchSuite = {
  name: 'dd-train',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    for (const be of availableBackends()) {
      const full = !quick && be.name !== 'ts';
      const cfg: DDConfig = full
        ? ddConfig('GPT-B', { codebook_dim: 8 })
        : ddConfig(null, {
            dim: 128,
            n_layer: 2,
            n_head: 2,
            vocab_size: 1024,
            block_size: 64,
            codebook_dim: 8,
          });
      const label = full ? 'GPT-B' : 'reduced (2 layers, width 128, 64 tokens, V 1024)';
      const L = cfg.block_size;
      const model = randomizeDD(new DDTransformer(cfg), new Rng(1));
      const codebook = new Rng(2).normal(cfg.vocab_size * 8) as Float32Array;
      const student = wrapLlamagen(model, codebook, cfg.vocab_size, 8);
      const out = mkdtempSync(join(tmpdir(), 'ddar-bench-train-'));
      const tc = parseTrainConfig({
        family: 'llamagen',
        dataset: '(memory)',
        out,
        batchSize: 8,
        valSamples: 0,
        timesteps: [0, Math.round((80 * L) / 256)],
        warmupSteps: 0,
      });
      const trainer = new Trainer(tc, student, memoryDataset(64, L, 8, cfg.vocab_size, 1000));
      await withBackend(be, async () => {
        const ms = await timeMs(() => trainer.trainStep(), quick ? 1 : 3, 1);
        rows.push({
          suite: 'dd-train',
          name: `DD ${label} train step B=8 (fwd+bwd+AdamW+EMA)`,
          backend: be.name,
          value: ms / 1000,
          unit: 's/step',
          ...(full ? { ref: { backend: 'pytorch (PEERS.md)', value: PYTORCH_STEP_S } } : {}),
        });
      });
      rmSync(out, { recursive: true, force: true });
    }
    return rows;
  },
};
