// Suite `dd-llamagen`: images/s of LlamaGen sampling with random weights at GPT-B size
// (D 768, 12 layers, 12 heads, L 256, V 16384): the teacher (KV cache, CFG 2.0 doubling the
// batch, top-k 8000, 256 decode steps) vs the DD student in 1 step (t_list [0]) and 2 steps
// ([0, 80], split_t 80), at batch 1 and 8, on every available backend. Token latents only: the
// VQ decoder (the same for all three) is not timed. DD rows carry the teacher's images/s of the
// same backend and batch as their reference, so the ratio column is the DD speed-up.
// The teacher at batch 8 is extrapolated: prefill + 255 × (median decode step), from timed runs
// of 1 and 17 tokens (the row name says so). The ts backend (and --quick) runs the reduced
// form D 256, 4 layers, 4 heads, L 64, V 4096 (teacher: extrapolated at every batch).
// PyTorch reference (PEERS.md, tuned, 2 cores): teacher 13.2 s/image (B 1), 32.3 s/batch (B 8);
// DD 1 step 1.07 s (B 1), 9.38 s (B 8); DD 2 steps 1.96 s (B 1).

import * as T from '../../src/tensor/index.js';
import { gptConfig, type GptConfig } from '../../src/models/llamagen/config.js';
import { Transformer, randomizeGpt } from '../../src/models/llamagen/gpt.js';
import { generate } from '../../src/models/llamagen/generate.js';
import { ddConfig } from '../../src/dd/students/llamagen/config.js';
import { DDTransformer, randomizeDD } from '../../src/dd/students/llamagen/student.js';
import { sampleFewStep } from '../../src/dd/students/llamagen/sample.js';
import { availableBackends, withBackend } from '../backends.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { batchNoise } from '../../src/dd/noise.js';

interface Size {
  readonly tag: string;
  readonly gpt: GptConfig;
  /** Time the whole 256-token teacher run at batch 1 (else extrapolate). */
  readonly fullTeacherB1: boolean;
  readonly split: number;
  readonly t1: number;
}

const FULL: Size = {
  tag: 'GPT-B',
  gpt: gptConfig('GPT-B'),
  fullTeacherB1: true,
  split: 80,
  t1: 80,
};

const REDUCED: Size = {
  tag: 'reduced D256 N4 L64 V4096',
  gpt: gptConfig(null, { dim: 256, n_layer: 4, n_head: 4, block_size: 64, vocab_size: 4096 }),
  fullTeacherB1: false,
  split: 20,
  t1: 20,
};

function seconds(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

/** Codebook-like unit rows [V, c]. */
function randomCodebook(V: number, c: number): T.Tensor {
  const d = new T.Rng(9).normal(V * c) as Float32Array;
  for (let k = 0; k < V; k++) {
    const n = Math.hypot(...d.subarray(k * c, (k + 1) * c));
    for (let j = 0; j < c; j++) d[k * c + j] = (d[k * c + j] as number) / n;
  }
  return new T.Tensor(d, [V, c]);
}

async function runSize(size: Size, backend: string, rows: BenchRow[]): Promise<void> {
  const g = size.gpt;
  const L = g.block_size;
  const teacher = randomizeGpt(new Transformer(g), new T.Rng(1));
  const student = randomizeDD(
    new DDTransformer(ddConfig(null, { ...g, class_dropout_prob: 0, codebook_dim: 8 })),
    new T.Rng(2),
  );
  const codebook = randomCodebook(g.vocab_size, 8);
  const push = (name: string, value: number, ref?: number) =>
    rows.push({
      suite: 'dd-llamagen',
      name,
      backend,
      value,
      unit: 'images/s',
      ...(ref !== undefined ? { ref: { backend: `teacher/${backend}`, value: ref } } : {}),
    });
  for (const B of [1, 8]) {
    const labels = new T.Tensor(
      Int32Array.from({ length: B }, (_, i) => (i * 37) % 1000),
      [B],
    );
    const teach = (n: number) =>
      seconds(() =>
        generate(teacher, labels, { cfgScale: 2, topK: 8000, rng: new T.Rng(3), maxNewTokens: n }),
      );
    let teacherSec: number;
    let how: string;
    if (B === 1 && size.fullTeacherB1) {
      teacherSec = teach(L);
      how = `${L} steps timed`;
    } else {
      const k = 16;
      const t1 = Math.min(teach(1), teach(1));
      const tk = teach(k + 1);
      teacherSec = t1 + ((L - 1) * (tk - t1)) / k;
      how = `extrapolated from ${k} decode steps`;
    }
    const teacherIps = B / teacherSec;
    push(`teacher ${size.tag} cfg2 top-k8000 B=${B} (${how})`, teacherIps);
    const noise = batchNoise(0, B, L * 8);
    for (const tList of [[0], [0, size.t1]]) {
      const run = () =>
        sampleFewStep(student, labels, { tList, splitT: size.split, noise, codebook });
      run(); // warm-up (allocations, native thread pool)
      const sec = Math.min(seconds(run), seconds(run)); // best of 2 after a warm-up
      push(
        `DD ${size.tag} ${tList.length}-step [${tList.join(',')}] split ${size.split} B=${B}`,
        B / sec,
        teacherIps,
      );
    }
  }
}

export const suite: BenchSuite = {
  name: 'dd-llamagen',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    for (const be of availableBackends()) {
      const size = quick || be.name === 'ts' ? REDUCED : FULL;
      await withBackend(be, () => runSize(size, be.name, rows));
    }
    return rows;
  },
};
