// Suite `dd-train`: one DD training step (Trainer.trainStep: batch gather, input building,
// forward, CE + MSE loss, backward, gradient clipping, AdamW, EMA update) of a random-weight DD
// student at batch 8 with timesteps [0, mid], per backend, as seconds per step and samples per
// second. Two students:
//   LlamaGen: native runs the real GPT-B size (12 layers, width 768, 256 tokens, V 16384,
//     codebook dim 8), timesteps [0, 80]; the ts reference and --quick a reduced size (2 layers,
//     width 128, 8×8 tokens, V 1024).
//   VAR: native runs the d16 size (16 blocks, width 1024, 10 scales = 680 tokens, V 4096, Cvae
//     32), timesteps [0, 5]; the ts reference and --quick a reduced size (depth 2, width 64,
//     the same 680 tokens).
//
// Same-machine PyTorch reference (PEERS.md, torch 1.13, 2 cores): DD GPT-B training step at
// batch 8 (forward, backward, AdamW) 14.4 s (default) / 15.0 s (tuned): the target is ≤ 7.2 s.
// PEERS.md has no VAR-DD training reference; its row carries none. Measured here (2 cores,
// AVX-512): VAR-d16 72 s/step (0.11 samples/s) with a peak RSS of 22.9 GB — weights, gradients,
// AdamW moments and EMA are 6.2 GB, the rest is the activations kept for the backward pass.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATASET_FORMAT, type DatasetIndex } from '../../src/dd/datagen.js';
import type { Dataset } from '../../src/dd/dataset.js';
import { ddConfig } from '../../src/dd/students/llamagen/config.js';
import { DDTransformer, randomizeDD } from '../../src/dd/students/llamagen/student.js';
import { VarDD } from '../../src/dd/students/var/student.js';
import { DEFAULT_FLOW } from '../../src/dd/flow.js';
import { parseTrainConfig } from '../../src/dd/train/config.js';
import { wrapLlamagen, wrapVar, type DDStudent } from '../../src/dd/train/student.js';
import { Trainer } from '../../src/dd/train/trainer.js';
import { varPreset } from '../../src/models/var/config.js';
import { randomInit_ } from '../../src/nn/init.js';
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

const B = 8;

interface Case {
  /** Row label, e.g. 'GPT-B' or 'VAR-d16'. */
  readonly label: string;
  readonly student: DDStudent;
  readonly classes: number;
  /** Timed steps and warm-up steps. */
  readonly reps: number;
  readonly warmup: number;
  readonly ref?: { readonly backend: string; readonly value: number };
}

/** The LlamaGen DD student: GPT-B when full, else 2 layers of width 128 over 64 tokens. */
function llamagenCase(full: boolean, quick: boolean): Case {
  const cfg = full
    ? ddConfig('GPT-B', { codebook_dim: 8 })
    : ddConfig(null, {
        dim: 128,
        n_layer: 2,
        n_head: 2,
        vocab_size: 1024,
        block_size: 64,
        codebook_dim: 8,
      });
  const model = randomizeDD(new DDTransformer(cfg), new Rng(1));
  const codebook = new Rng(2).normal(cfg.vocab_size * 8) as Float32Array;
  return {
    label: full ? 'GPT-B' : 'LlamaGen reduced (2 layers, width 128, 64 tokens, V 1024)',
    student: wrapLlamagen(model, codebook, cfg.vocab_size, 8),
    classes: 1000,
    reps: quick ? 1 : 3,
    warmup: 1,
    ...(full ? { ref: { backend: 'pytorch (PEERS.md)', value: PYTORCH_STEP_S } } : {}),
  };
}

/** The VAR DD student: d16 when full, else depth 2 of width 64 (both 680 tokens, V 4096). */
function varCase(full: boolean): Case {
  const cfg = full ? varPreset(16) : varPreset(2, { embed_dim: 64, num_heads: 1 });
  const model = new VarDD({ ...cfg, n_d_embed_enable: true, layerwise_n_d_embed: true });
  randomInit_(model, new Rng(3), { fast: true });
  const codebook = new Rng(4).normal(cfg.vocab_size * cfg.Cvae) as Float32Array;
  return {
    label: full ? 'VAR-d16' : 'VAR reduced (depth 2, width 64, 680 tokens, V 4096)',
    student: wrapVar(model, codebook),
    classes: cfg.num_classes,
    reps: 1, // d16: ~70 s per step on 2 cores; the ts reference: ~14 s at the reduced size
    warmup: 1,
  };
}

/** Seconds per trainStep of c's student at batch 8 on random pairs (default timesteps). */
async function stepSeconds(c: Case): Promise<number> {
  const { student: s } = c;
  const out = mkdtempSync(join(tmpdir(), 'ddar-bench-train-'));
  try {
    const tc = parseTrainConfig({
      family: s.family,
      dataset: '(memory)',
      out,
      batchSize: B,
      valSamples: 0,
      warmupSteps: 0,
    });
    const data = memoryDataset(64, s.seqLen, s.codeDim, s.vocab, c.classes);
    const trainer = new Trainer(tc, s, data);
    return (await timeMs(() => trainer.trainStep(), c.reps, c.warmup)) / 1000;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export const suite: BenchSuite = {
  name: 'dd-train',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    for (const be of availableBackends()) {
      const full = !quick && be.name !== 'ts';
      for (const make of [llamagenCase, varCase]) {
        const c = make(full, quick);
        const s = await withBackend(be, () => stepSeconds(c));
        const t = c.student.defaultTimesteps.join(', ');
        const name = `DD ${c.label} train step B=${B} t∈{${t}} (fwd+bwd+AdamW+EMA)`;
        rows.push({
          suite: 'dd-train',
          name,
          backend: be.name,
          value: s,
          unit: 's/step',
          ...(c.ref ? { ref: c.ref } : {}),
        });
        rows.push({
          suite: 'dd-train',
          name,
          backend: be.name,
          value: B / s,
          unit: 'samples/s',
          ...(c.ref ? { ref: { backend: c.ref.backend, value: B / c.ref.value } } : {}),
        });
      }
    }
    return rows;
  },
};
