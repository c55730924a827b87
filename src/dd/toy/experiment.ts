// The toy Distilled Decoding experiment (`ddar toy-joint`, test/dd-train-*.test.ts): the whole
// method end to end on a teacher small enough that its exact joint distribution is known.
//
//   1. train a tiny real LlamaGen or VAR teacher on a dependent Markov chain (teachers.ts);
//   2. enumerate its exact joint p(sequence | class) over all V^L sequences, through its own
//      generation loop with its sampling settings (exact.ts);
//   3. generate a distillation dataset with the sequence flow map (datagen, in a temp folder);
//   4. train a DD student initialised from the teacher (Trainer, EMA weights for sampling);
//   5. draw n fresh samples per class from every method and measure the total-variation
//      distance ½ Σ |p − p̂| of their empirical distribution to the exact joint, averaged over
//      classes: the teacher itself (ordinary random sampling: the floor that n samples allow),
//      the flow map on fresh noise (what the student imitates), DD 1-step and 2-step on the same
//      noise, and onestep* (independent per-position marginals counted over the dataset: what
//      parallel decoding without DD achieves).
//
// DD well below onestep* and near the floor means the student has learnt the teacher's joint,
// not just its marginals. Every random draw is a function of (role, seed): a run is
// reproducible, and seed 0 is the run quoted in README.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sampleCategorical } from '../../sampling/categorical.js';
import { Rng } from '../../tensor/rng.js';
import { mergeShards, runDatagen } from '../datagen.js';
import { openDataset } from '../dataset.js';
import { DEFAULT_FLOW } from '../flow.js';
import { sequenceFlowMap, type FlowTeacher } from '../teacher.js';
import { fitOnestep, sampleOnestep } from '../train/baselines.js';
import { parseTrainConfig, type Family, type TrainConfig } from '../train/config.js';
import { empirical, exactJoint, productOfMarginals, tvDistance } from '../train/exact.js';
import { Trainer } from '../train/trainer.js';
import { TINY, TINY_TRAIN, toyTeacher, type ToyTeacher } from './teachers.js';

/** The sizes of one run. */
export interface ToyRecipe {
  /** AdamW steps of the teacher on the chain (batch 64). */
  readonly teacherSteps: number;
  /** Flow-map pairs generated (classes drawn uniformly). */
  readonly datasetSize: number;
  /** Student optimizer steps (batch 64). */
  readonly trainSteps: number;
  /** Fresh samples per class and method for each TV estimate. */
  readonly evalSamples: number;
}

/** Defaults per family (measured to give DD 1-step far below onestep* for every seed tried). */
export const TOY_RECIPES: Readonly<Record<Family, ToyRecipe>> = {
  llamagen: { teacherSteps: 300, datasetSize: 20000, trainSteps: 2000, evalSamples: 20000 },
  var: { teacherSteps: 300, datasetSize: 6000, trainSteps: 600, evalSamples: 20000 },
};

export type ToyStage = 'teacher' | 'exact' | 'datagen' | 'train' | 'eval';

export interface ToyProgress {
  readonly stage: ToyStage;
  readonly done: number;
  readonly total: number;
  /** e.g. the current training loss. */
  readonly detail?: string;
}

export interface ToyJointOptions {
  readonly family: Family;
  /** Picks chain, teacher, dataset, student and evaluation noise (default 0). */
  readonly seed?: number;
  /** Overrides of TOY_RECIPES[family]. */
  readonly recipe?: Partial<ToyRecipe>;
  /** An already trained teacher (its family must match; `recipe.teacherSteps` is then moot). */
  readonly teacher?: ToyTeacher;
  readonly onProgress?: (p: ToyProgress) => void;
}

/** Per-class distances (keys as in the --json output). */
export interface ToyJointClass {
  readonly class: number;
  /** Σ of the enumerated joint (1 up to rounding). */
  readonly joint_mass: number;
  /** TV between the joint and the product of its exact marginals: how dependent the tokens are
   *  (the best any independent per-position sampler can reach, before sampling noise). */
  readonly marginals_product_tv: number;
  readonly teacher_resample_tv: number;
  readonly flow_tv: number;
  readonly dd1_tv: number;
  readonly dd2_tv: number;
  readonly onestep_star_tv: number;
}

/** The result of runToyJoint: TVs averaged over classes, plus sizes, settings and timings. */
export interface ToyJointResult {
  readonly family: Family;
  readonly seed: number;
  readonly teacher: string;
  readonly teacher_settings: Readonly<Record<string, number | string | boolean>>;
  readonly classes: number;
  readonly seq_len: number;
  readonly vocab: number;
  /** V^L: the support the TVs are computed over. */
  readonly sequences: number;
  readonly teacher_steps: number;
  readonly teacher_final_loss: number;
  readonly dataset_samples: number;
  readonly train_steps: number;
  readonly eval_samples_per_class: number;
  /** t_list of the DD 2-step sampler (second step: the trained mid timestep). */
  readonly dd2_timesteps: readonly number[];
  readonly teacher_resample_tv: number;
  /** TV of the flow map itself (the student's target) on the student's fresh noise. */
  readonly flow_tv: number;
  readonly dd1_tv: number;
  readonly dd2_tv: number;
  readonly onestep_star_tv: number;
  readonly marginals_product_tv: number;
  /** (onestep* − DD) / (onestep* − teacher resample): the share of the gap between independent
   *  per-token sampling and the teacher's own samples that DD closes (1 = all of it). */
  readonly dd1_gap_closed: number;
  readonly dd2_gap_closed: number;
  /** Token agreement of the student's 1- and 2-step samples with the flow map, held-out pairs. */
  readonly agreement_1step: number;
  readonly agreement_2step: number;
  readonly per_class: readonly ToyJointClass[];
  readonly timings_s: {
    readonly teacher: number;
    readonly exact: number;
    readonly datagen: number;
    readonly train: number;
    readonly eval: number;
    readonly total: number;
  };
}

/** Largest seed accepted (the datagen seed is 5 + seed·2³², below 2⁵³). */
export const TOY_MAX_SEED = 2 ** 20 - 1;

/** The student's training settings for the toy run (batch 64, cosine 2e-3 → 1e-4, EMA 0.99). */
export function toyTrainConfig(
  family: Family,
  dataset: string,
  out: string,
  steps: number,
  seed: number,
): TrainConfig {
  return parseTrainConfig({
    family,
    dataset,
    out,
    seed,
    steps,
    batchSize: 64,
    valSamples: 256,
    lr: 2e-3,
    minLr: 1e-4,
    warmupSteps: Math.min(20, steps),
    weightDecay: 0,
    emaDecay: 0.99,
    gradClip: 1,
    checkpointEvery: 100000,
    validateEvery: 100000,
    logEvery: 50,
  });
}

/** Ordinary random sampling: the teacher's own generation loop with one categorical draw per
 *  token from its (guided, filtered) distribution — labels [B] → tokens [B, L]. */
export function sampleTeacher(
  teacher: FlowTeacher,
  labels: Int32Array,
  rng: Rng,
  batch = 4096,
): Int32Array {
  const { seqLen: L, vocab: V } = teacher;
  const out = new Int32Array(labels.length * L);
  for (let a = 0; a < labels.length; a += batch) {
    const B = Math.min(batch, labels.length - a);
    const toks = teacher.generate(labels.subarray(a, a + B), (probs, _start, count) =>
      sampleCategorical(probs, B * count, V, rng),
    );
    out.set(toks, a * L);
  }
  return out;
}

/** The sequence flow map of labels [B] and ε [B, L, d] → tokens [B, L], in batches. */
export function flowMapSamples(
  teacher: FlowTeacher,
  labels: Int32Array,
  noise: Float32Array,
  batch = 4096,
): Int32Array {
  const { seqLen: L, codeDim: d } = teacher;
  const out = new Int32Array(labels.length * L);
  for (let a = 0; a < labels.length; a += batch) {
    const B = Math.min(batch, labels.length - a);
    const eps = noise.subarray(a * L * d, (a + B) * L * d);
    out.set(sequenceFlowMap(teacher, labels.subarray(a, a + B), eps, DEFAULT_FLOW), a * L);
  }
  return out;
}

function seconds(t0: number): number {
  return (performance.now() - t0) / 1000;
}

/** Runs the whole toy experiment (see the header); temporary files are removed at the end. */
export function runToyJoint(o: ToyJointOptions): ToyJointResult {
  const { family } = o;
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > TOY_MAX_SEED)
    throw new Error(`toy-joint: seed ${seed} must be an integer in [0, ${TOY_MAX_SEED}]`);
  const r: ToyRecipe = { ...TOY_RECIPES[family], ...o.recipe };
  for (const [k, v] of Object.entries(r))
    if (!Number.isInteger(v) || v < 1)
      throw new Error(`toy-joint: recipe ${k} ${v} must be a positive integer`);
  if (r.datasetSize < 256 + 64)
    throw new Error(
      `toy-joint: datasetSize ${r.datasetSize} is too small (256 pairs are held out for validation and a batch is 64: use ≥ 320)`,
    );
  if (o.teacher && o.teacher.family !== family)
    throw new Error(`toy-joint: a ${o.teacher.family} teacher was given for family ${family}`);
  const report = o.onProgress ?? (() => {});
  const tStart = performance.now();

  let t0 = performance.now();
  if (!o.teacher) report({ stage: 'teacher', done: 0, total: r.teacherSteps });
  const teacher =
    o.teacher ??
    toyTeacher(family, {
      ...TINY_TRAIN,
      steps: r.teacherSteps,
      seed,
      onStep: (done, total) => report({ stage: 'teacher', done, total }),
    });
  const teacherS = o.teacher ? 0 : seconds(t0);
  const flow = teacher.flow;
  const C = TINY.classes;
  const { seqLen: L, vocab: V, codeDim: d } = flow;

  t0 = performance.now();
  const exact: Float64Array[] = [];
  report({ stage: 'exact', done: 0, total: C });
  for (let c = 0; c < C; c++) {
    exact.push(exactJoint(flow, c));
    report({ stage: 'exact', done: c + 1, total: C });
  }
  const exactS = seconds(t0);

  const work = mkdtempSync(join(tmpdir(), 'ddar-toy-joint-'));
  try {
    t0 = performance.now();
    const dataDir = join(work, 'data');
    runDatagen(
      flow,
      `toy ${family} seed ${seed}`,
      {
        seed: 5 + seed * 2 ** 32,
        numSamples: r.datasetSize,
        chunkSize: 1024,
        batchSize: 512,
        storeNoise: 'none',
        flow: DEFAULT_FLOW,
      },
      { index: 0, count: 1 },
      dataDir,
      (p) => report({ stage: 'datagen', done: p.done, total: p.total }),
    );
    mergeShards(dataDir);
    const ds = openDataset(dataDir);
    const datagenS = seconds(t0);

    t0 = performance.now();
    report({ stage: 'train', done: 0, total: r.trainSteps });
    const student = teacher.newStudent(new Rng(1, seed));
    const tr = new Trainer(
      toyTrainConfig(family, dataDir, join(work, 'run'), r.trainSteps, seed),
      student,
      ds,
      {
        onProgress: (p) =>
          report({
            stage: 'train',
            done: p.step,
            total: p.total,
            detail: `loss ${p.loss.toFixed(4)}`,
          }),
      },
    );
    tr.run();
    const val = tr.validate();
    const trainS = seconds(t0);

    t0 = performance.now();
    const n = r.evalSamples;
    const table = fitOnestep(ds, C, V);
    const two = [0, Math.max(...tr.timesteps)];
    const perClass: ToyJointClass[] = [];
    report({ stage: 'eval', done: 0, total: 5 * C });
    for (let c = 0; c < C; c++) {
      const p = exact[c] as Float64Array;
      const labels = new Int32Array(n).fill(c);
      const tv = (tokens: Int32Array) => tvDistance(p, empirical(tokens, L, V));
      const teacherTv = tv(sampleTeacher(flow, labels, new Rng(4444, c + C * seed)));
      report({ stage: 'eval', done: 5 * c + 1, total: 5 * C });
      const noise = new Rng(4242, c + C * seed).normal(n * L * d) as Float32Array; // fresh ε
      const flowTv = tv(flowMapSamples(flow, labels, noise));
      report({ stage: 'eval', done: 5 * c + 2, total: 5 * C });
      const [one, twoS] = tr.withEvalWeights(() => [
        student.sample(labels, noise, [0], student.allLogitsSplit),
        student.sample(labels, noise, two, student.allLogitsSplit),
      ]);
      report({ stage: 'eval', done: 5 * c + 4, total: 5 * C });
      const star = sampleOnestep(table, labels, new Rng(4343, c + C * seed));
      perClass.push({
        class: c,
        joint_mass: p.reduce((a, b) => a + b, 0),
        marginals_product_tv: tvDistance(p, productOfMarginals(p, L, V)),
        teacher_resample_tv: teacherTv,
        flow_tv: flowTv,
        dd1_tv: tv(one as Int32Array),
        dd2_tv: tv(twoS as Int32Array),
        onestep_star_tv: tv(star),
      });
      report({ stage: 'eval', done: 5 * c + 5, total: 5 * C });
    }
    const evalS = seconds(t0);
    const mean = (k: keyof ToyJointClass) => perClass.reduce((a, x) => a + (x[k] as number), 0) / C;
    const gapClosed = (tv: number) =>
      (mean('onestep_star_tv') - tv) / (mean('onestep_star_tv') - mean('teacher_resample_tv'));
    return {
      family,
      seed,
      teacher: flow.name,
      teacher_settings: flow.settings,
      classes: C,
      seq_len: L,
      vocab: V,
      sequences: V ** L,
      teacher_steps: teacher.steps,
      teacher_final_loss: teacher.finalLoss,
      dataset_samples: r.datasetSize,
      train_steps: r.trainSteps,
      eval_samples_per_class: n,
      dd2_timesteps: two,
      teacher_resample_tv: mean('teacher_resample_tv'),
      flow_tv: mean('flow_tv'),
      dd1_tv: mean('dd1_tv'),
      dd2_tv: mean('dd2_tv'),
      onestep_star_tv: mean('onestep_star_tv'),
      marginals_product_tv: mean('marginals_product_tv'),
      dd1_gap_closed: gapClosed(mean('dd1_tv')),
      dd2_gap_closed: gapClosed(mean('dd2_tv')),
      agreement_1step: val.agreement1,
      agreement_2step: val.agreement2,
      per_class: perClass,
      timings_s: {
        teacher: teacherS,
        exact: exactS,
        datagen: datagenS,
        train: trainS,
        eval: evalS,
        total: seconds(tStart),
      },
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
