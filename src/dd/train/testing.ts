// Fixtures for the trainer's unit tests: a random tiny LlamaGen teacher (2×2 grid, 8 codes of
// dim 4), a small datagen dataset from it in a temp folder, and a student factory. Nothing is
// trained here; the done-when tests (test/dd-train-*.test.ts) use trained teachers.
// upsamplingVq gives the same codebook with a random 4-level decoder (2×2 → 16×16 images, the
// smallest LPIPS-VGG accepts) for the perceptual-loss test.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gptConfig } from '../../models/llamagen/config.js';
import { Transformer, randomizeGpt } from '../../models/llamagen/gpt.js';
import { VQModel } from '../../models/llamagen/vq.js';
import { Rng } from '../../tensor/rng.js';
import { mergeShards, runDatagen } from '../datagen.js';
import { openDataset, type Dataset } from '../dataset.js';
import { DEFAULT_FLOW } from '../flow.js';
import { llamagenFlowTeacher } from '../teachers.js';
import type { FlowTeacher } from '../teacher.js';
import { parseTrainConfig, type TrainConfig } from './config.js';
import { llamagenStudent, type DDStudent } from './student.js';

export interface TinyRun {
  readonly gpt: Transformer;
  readonly vq: VQModel;
  readonly teacher: FlowTeacher;
  readonly dataset: Dataset;
  /** A fresh student initialised from the teacher with Rng(seed). */
  student(seed?: number): DDStudent;
  config(over?: Record<string, unknown>): TrainConfig;
}

export function tinyRun(numSamples = 200): TinyRun {
  const gpt = randomizeGpt(
    new Transformer(
      gptConfig(null, {
        dim: 16,
        n_layer: 1,
        n_head: 1,
        multiple_of: 16,
        vocab_size: 8,
        block_size: 4,
        num_classes: 2,
      }),
    ),
    new Rng(3),
  );
  const vq = new VQModel({
    codebook_size: 8,
    codebook_embed_dim: 4,
    codebook_l2_norm: true,
    codebook_show_usage: false,
    encoder_ch_mult: [1],
    decoder_ch_mult: [1],
    z_channels: 32,
    dropout_p: 0,
    ch: 32,
    num_res_blocks: 1,
  });
  vq.quantize.embedding.weight.data.set(new Rng(4).normal(32));
  const teacher = llamagenFlowTeacher('tiny random', gpt, vq, {
    cfgScale: 1.5,
    cfgInterval: -1,
    temperature: 1,
    topK: 0,
    topP: 1,
  });
  const dir = mkdtempSync(join(tmpdir(), 'ddar-train-unit-'));
  runDatagen(
    teacher,
    'tiny',
    { seed: 1, numSamples, chunkSize: 64, batchSize: 64, storeNoise: 'none', flow: DEFAULT_FLOW },
    { index: 0, count: 1 },
    dir,
  );
  mergeShards(dir);
  const dataset = openDataset(dir);
  return {
    gpt,
    vq,
    teacher,
    dataset,
    student: (seed = 0) => llamagenStudent(gpt, vq, new Rng(seed)),
    config: (over = {}) =>
      parseTrainConfig({
        family: 'llamagen',
        dataset: dir,
        out: mkdtempSync(join(tmpdir(), 'ddar-train-out-')),
        steps: 12,
        batchSize: 8,
        valSamples: 16,
        lr: 1e-3,
        warmupSteps: 2,
        emaDecay: 0.9,
        checkpointEvery: 5,
        validateEvery: 6,
        logEvery: 1,
        ...over,
      }),
  };
}

/** A VQ with `vq`'s codebook and a random decoder of 4 levels: a 2×2 latent decodes to a
 *  16×16 image. GroupNorm scales 1, conv weights He-normal, biases small (Rng(seed)). */
export function upsamplingVq(vq: VQModel, seed = 5): VQModel {
  const up = new VQModel({
    codebook_size: 8,
    codebook_embed_dim: 4,
    codebook_l2_norm: true,
    codebook_show_usage: false,
    encoder_ch_mult: [1, 1, 1, 1],
    decoder_ch_mult: [1, 1, 1, 1],
    z_channels: 32,
    dropout_p: 0,
    ch: 32,
    num_res_blocks: 1,
  });
  up.quantize.embedding.weight.data.set(vq.quantize.embedding.weight.data);
  const rng = new Rng(seed);
  for (const [name, t] of [...up.decoder.stateDict(), ...up.post_quant_conv.stateDict()]) {
    const z = rng.normal(t.size);
    if (t.shape.length === 1)
      t.data.set(
        name.includes('norm') && name.endsWith('weight') ? z.map(() => 1) : z.map((v) => 0.02 * v),
      );
    else {
      const fanIn = t.size / (t.shape[0] as number);
      t.data.set(z.map((v) => v * Math.sqrt(1 / fanIn)));
    }
  }
  return up;
}
