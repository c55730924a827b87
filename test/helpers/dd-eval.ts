// Shared steps of the DD training tests: datagen into a temp folder, a training run, and the
// total-variation distances of DD 1-step / 2-step and onestep* samples to the teacher's exact
// joint distribution (per class, averaged over classes).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mergeShards, runDatagen } from '../../src/dd/datagen.js';
import { openDataset, type Dataset } from '../../src/dd/dataset.js';
import { DEFAULT_FLOW } from '../../src/dd/flow.js';
import type { FlowTeacher } from '../../src/dd/teacher.js';
import { fitOnestep, sampleOnestep } from '../../src/dd/train/baselines.js';
import { parseTrainConfig, type TrainConfig } from '../../src/dd/train/config.js';
import { empirical, exactJoint, tvDistance } from '../../src/dd/train/exact.js';
import type { DDStudent } from '../../src/dd/train/student.js';
import { Trainer } from '../../src/dd/train/trainer.js';
import { Rng } from '../../src/tensor/rng.js';
import { TINY } from './tiny-teachers.js';

/** A merged datagen dataset of n pairs over every class of the teacher. */
export function makeDataset(teacher: FlowTeacher, n: number, seed = 5): Dataset {
  const dir = mkdtempSync(join(tmpdir(), 'ddar-train-data-'));
  runDatagen(
    teacher,
    'tiny-test',
    {
      seed,
      numSamples: n,
      chunkSize: 1024,
      batchSize: 512,
      storeNoise: 'none',
      flow: DEFAULT_FLOW,
    },
    { index: 0, count: 1 },
    dir,
  );
  mergeShards(dir);
  return openDataset(dir);
}

export function tinyConfig(
  family: 'llamagen' | 'var',
  dataset: string,
  over: Record<string, unknown> = {},
): TrainConfig {
  return parseTrainConfig({
    family,
    dataset,
    out: mkdtempSync(join(tmpdir(), 'ddar-train-run-')),
    steps: 600,
    batchSize: 64,
    valSamples: 256,
    lr: 2e-3,
    minLr: 1e-4,
    warmupSteps: 20,
    weightDecay: 0,
    emaDecay: 0.99,
    gradClip: 1,
    checkpointEvery: 100000,
    validateEvery: 100000,
    logEvery: 50,
    ...over,
  });
}

export interface TvReport {
  readonly oneStep: number;
  readonly twoStep: number;
  readonly onestepStar: number;
  /** 1-step / 2-step agreement with the flow map on held-out pairs. */
  readonly agree1: number;
  readonly agree2: number;
}

/** Trains, then compares n fresh samples per class of each sampler with the exact joint. */
export function trainAndCompare(
  teacher: FlowTeacher,
  student: DDStudent,
  ds: Dataset,
  cfg: TrainConfig,
  n: number,
): TvReport {
  const tr = new Trainer(cfg, student, ds);
  tr.run();
  const rep = tr.validate();
  const L = student.seqLen;
  const d = student.codeDim;
  const V = TINY.vocab;
  const table = fitOnestep(ds, TINY.classes, V);
  const two = [0, Math.max(...tr.timesteps)];
  const tv = { oneStep: 0, twoStep: 0, onestepStar: 0 };
  for (let c = 0; c < TINY.classes; c++) {
    const exact = exactJoint(teacher, c);
    const labels = new Int32Array(n).fill(c);
    const noise = new Rng(4242, c).normal(n * L * d) as Float32Array; // fresh ε, never trained on
    const [one, twoS] = tr.withEvalWeights(() => [
      student.sample(labels, noise, [0], student.allLogitsSplit),
      student.sample(labels, noise, two, student.allLogitsSplit),
    ]);
    const star = sampleOnestep(table, labels, new Rng(4343, c));
    tv.oneStep += tvDistance(exact, empirical(one as Int32Array, L, V)) / TINY.classes;
    tv.twoStep += tvDistance(exact, empirical(twoS as Int32Array, L, V)) / TINY.classes;
    tv.onestepStar += tvDistance(exact, empirical(star, L, V)) / TINY.classes;
  }
  return { ...tv, agree1: rep.agreement1, agree2: rep.agreement2 };
}
