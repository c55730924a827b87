// The DD training loop: AdamW (decay on rank ≥ 2 tensors only), warm-up + cosine or constant
// learning rate, global gradient clipping, an EMA of the weights, deterministic batches and
// timesteps (data.ts), checkpoints every N steps (checkpoint.ts), a JSONL metrics log, progress
// callbacks and a validation pass on held-out pairs (validate.ts; with the EMA weights by
// default). A run resumed from a checkpoint continues bit-identically: weights, EMA and AdamW
// state are restored exactly, and everything random is a function of (seed, step).
//
// Optional LPIPS term (cfg.lpips, network passed as opts.perceptual; the CLI loads it): on every
// `every`-th step the student's latent — data tokens as given, every predicted position j ≥ n(t)
// from the continuous head (the positions a split_t = 0 sampler would take from it; a larger
// split_t snaps positions through the logits argmax, which carries no gradient) — and the target
// latent codebook[target] are decoded by the family's frozen VQ decoder (student.decodeLatent),
// and weight · mean_b LPIPS(decoded prediction, decoded target) is added to the loss. Gradients
// flow through the decoder into the continuous head only; the target image carries none.
//
// Letters: B batch, L tokens, d codebook dim.

import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeBytesAtomic } from '../../io/atomic.js';
import { AdamW, paramGroupsByDecay } from '../../nn/adamw.js';
import { clipGradNorm, gradNorm } from '../../nn/clip.js';
import { EMA } from '../../nn/ema.js';
import { constantLr, warmupCosine, type LrSchedule } from '../../nn/schedule.js';
import * as T from '../../tensor/index.js';
import type { Dataset } from '../dataset.js';
import {
  hasCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointState,
} from './checkpoint.js';
import { checkResumable, type TrainConfig } from './config.js';
import { TrainData, stepTimesteps } from './data.js';
import { ddLoss, studentInput, targetVectors } from './loss.js';
import { checkTimesteps, type DDStudent } from './student.js';
import { flattenReport, validate, type ValidationReport } from './validate.js';

export interface StepMetrics {
  readonly step: number;
  readonly lr: number;
  readonly loss: number;
  readonly ce: number;
  readonly mse: number;
  readonly gradNorm: number;
  /** Mean LPIPS of the batch, on steps where the perceptual term is applied. */
  readonly lpips?: number;
}

/** A perceptual distance: images pred, target [N, 3, H, W] in [−1, 1] → [N, 1, 1, 1] (LPIPS). */
export type PerceptualLoss = (pred: T.Tensor, target: T.Tensor) => T.Tensor;

export interface TrainProgress {
  readonly step: number;
  readonly total: number;
  readonly stepsPerSec: number;
  readonly loss: number;
  readonly etaSec: number;
}

export interface TrainerOptions {
  readonly onProgress?: (p: TrainProgress) => void;
  /** Human-readable events (checkpoint written, validation summary). */
  readonly onLog?: (line: string) => void;
  /** The network of cfg.lpips (required exactly when cfg.lpips is set). */
  readonly perceptual?: PerceptualLoss;
}

/** One progress line: `step 120/1000 [####......] 2.31 steps/s loss 1.2345 ETA 6m20s`. */
export function formatProgress(p: TrainProgress): string {
  const w = 20;
  const fill = Math.round((p.step / Math.max(p.total, 1)) * w);
  const eta = Number.isFinite(p.etaSec)
    ? `${Math.floor(p.etaSec / 60)}m${String(Math.round(p.etaSec % 60)).padStart(2, '0')}s`
    : '?';
  return `step ${p.step}/${p.total} [${'#'.repeat(fill)}${'.'.repeat(w - fill)}] ${p.stepsPerSec.toFixed(2)} steps/s loss ${p.loss.toFixed(4)} ETA ${eta}`;
}

export class Trainer {
  readonly data: TrainData;
  readonly opt: AdamW;
  readonly ema: EMA;
  readonly schedule: LrSchedule;
  readonly timesteps: readonly number[];
  readonly splitT: number;
  /** Optimizer steps completed. */
  step = 0;
  private readonly params: T.Tensor[];
  private readonly metricsPath: string;
  private lastMetrics: StepMetrics | null = null;

  constructor(
    readonly cfg: TrainConfig,
    readonly student: DDStudent,
    dataset: Dataset,
    private readonly opts: TrainerOptions = {},
  ) {
    if (dataset.seqLen !== student.seqLen || dataset.codeDim !== student.codeDim)
      throw new Error(
        `train: the dataset ${dataset.dir} has ${dataset.seqLen} tokens of dim ${dataset.codeDim}, the ${student.family} student ${student.seqLen} of dim ${student.codeDim}; HINT: generate the dataset with this student's teacher`,
      );
    this.timesteps = cfg.timesteps ?? student.defaultTimesteps;
    checkTimesteps(student, this.timesteps, 'train config timesteps');
    this.splitT = cfg.splitT ?? student.allLogitsSplit;
    if (this.splitT > student.allLogitsSplit)
      throw new Error(
        `train config splitT ${this.splitT} exceeds ${student.allLogitsSplit} (${student.family}: every position from the logits head)`,
      );
    if ((cfg.lpips !== null) !== (opts.perceptual !== undefined))
      throw new Error(
        cfg.lpips
          ? 'train: the config sets lpips but no perceptual network was given; HINT: ddar train loads it from lpips.weights / lpips.vgg (library: pass opts.perceptual = lpips.forward)'
          : 'train: a perceptual network was given but the config has no lpips entry; HINT: add "lpips": {"weights": FILE} to the config',
      );
    if (cfg.lpips && !student.decodeLatent)
      throw new Error(
        `train: lpips needs the ${student.family} student's VQ decoder; HINT: build the student with llamagenStudent/varStudent or pass the VQ to wrapLlamagen/wrapVar`,
      );
    this.data = new TrainData(dataset, cfg.seed, cfg.valSamples, cfg.chunkCache);
    const m = student.module;
    m.train();
    this.params = m.parameters();
    this.opt = new AdamW(paramGroupsByDecay(m, cfg.weightDecay), {
      lr: cfg.lr,
      betas: cfg.betas,
      eps: cfg.eps,
      weightDecay: cfg.weightDecay,
    });
    this.ema = new EMA(m, cfg.emaDecay, { warmup: cfg.emaWarmup });
    this.schedule =
      cfg.schedule === 'cosine'
        ? warmupCosine({
            baseLr: cfg.lr,
            warmupSteps: cfg.warmupSteps,
            totalSteps: cfg.steps,
            minLr: cfg.minLr,
          })
        : constantLr(cfg.lr, cfg.warmupSteps);
    mkdirSync(cfg.out, { recursive: true });
    this.metricsPath = join(cfg.out, 'metrics.jsonl');
  }

  /** Restores the run folder's current checkpoint (exactly) and trims the metrics log to it. */
  resume(): CheckpointState {
    const ck = loadCheckpoint(this.cfg.out);
    checkResumable(ck.state.config, this.cfg);
    this.student.module.loadStateDict(ck.model);
    this.ema.loadStateDict(ck.ema, ck.state.emaUpdates);
    this.opt.loadStateDict(ck.optim);
    this.step = ck.state.step;
    if (existsSync(this.metricsPath)) {
      const keep = readFileSync(this.metricsPath, 'utf8')
        .split('\n')
        .filter(
          (l) => l.trim() !== '' && ((JSON.parse(l) as { step?: number }).step ?? 0) <= this.step,
        );
      writeBytesAtomic(
        this.metricsPath,
        new TextEncoder().encode(keep.map((l) => l + '\n').join('')),
      );
    }
    this.opts.onLog?.(`resumed from ${ck.path} at step ${this.step}`);
    return ck.state;
  }

  /** One optimizer step on batch `step`; returns its metrics. */
  trainStep(): StepMetrics {
    const { cfg, student } = this;
    const B = cfg.batchSize;
    const L = student.seqLen;
    const d = student.codeDim;
    const lr = this.schedule(this.step);
    this.opt.setLr(lr);
    const batch = this.data.trainBatch(this.step, B);
    const t = stepTimesteps(cfg.seed, this.step, B, this.timesteps);
    const nData = t.map((tb) => student.dataTokens(tb));
    const vecs = targetVectors(batch.tokens, student.codebook, d);
    const x = studentInput(vecs, batch.noise, nData, L, d);
    this.opt.zeroGrad();
    const out = student.forward(x, batch.classes, t);
    const lv = ddLoss(out, batch.tokens, vecs, nData, cfg);
    let loss = lv.loss;
    let lp: number | undefined;
    if (cfg.lpips && this.step % cfg.lpips.every === 0) {
      const term = this.perceptualTerm(out.conti, vecs, nData);
      lp = term.item();
      loss = T.add(loss, cfg.lpips.weight === 1 ? term : T.mul(term, cfg.lpips.weight));
    }
    T.backward(loss);
    const gn = cfg.gradClip > 0 ? clipGradNorm(this.params, cfg.gradClip) : gradNorm(this.params);
    this.opt.step();
    this.ema.update(student.module);
    const m: StepMetrics = {
      step: this.step,
      lr,
      loss: loss.item(),
      ce: lv.ce,
      mse: lv.mse,
      gradNorm: gn,
      ...(lp === undefined ? {} : { lpips: lp }),
    };
    this.step++;
    this.lastMetrics = m;
    return m;
  }

  /** mean_b LPIPS(decode(latent_b), decode(target_b)): latent = data before nData[b], conti
   *  after. conti [B, L, d]; vecs [B·L·d] the target vectors. → scalar with gradients to conti. */
  perceptualTerm(conti: T.Tensor, vecs: Float32Array, nData: Int32Array): T.Tensor {
    const decode = this.student.decodeLatent;
    const perceptual = this.opts.perceptual;
    if (!decode || !perceptual) throw new Error('perceptualTerm: lpips is not configured');
    const [B, L, d] = conti.shape as [number, number, number];
    const mask = new Float32Array(B * L);
    const known = new Float32Array(vecs);
    for (let b = 0; b < B; b++)
      for (let j = nData[b] as number; j < L; j++) {
        mask[b * L + j] = 1;
        known.fill(0, (b * L + j) * d, (b * L + j + 1) * d);
      }
    const latent = T.add(
      T.mul(conti, new T.Tensor(mask, [B, L, 1])),
      new T.Tensor(known, [B, L, d]),
    );
    const target = T.noGrad(() => decode(new T.Tensor(vecs, [B, L, d])));
    return T.mean(perceptual(decode(latent), target));
  }

  /** Runs fn with the EMA weights in the student (when evalWithEma), then restores the raw ones. */
  withEvalWeights<R>(fn: () => R): R {
    if (!this.cfg.evalWithEma) return fn();
    const m = this.student.module;
    const raw = [...m.stateDict()].map(([, t]) => t.data.slice());
    this.ema.copyTo(m);
    try {
      return fn();
    } finally {
      [...m.stateDict()].forEach(([, t], i) => t.data.set(raw[i] as typeof t.data));
    }
  }

  /** The validation pass on the held-out pairs. */
  validate(): ValidationReport {
    const pairs = this.data.valBatch(0, this.data.numVal);
    return this.withEvalWeights(() =>
      validate(this.student, pairs, { timesteps: this.timesteps, splitT: this.splitT }),
    );
  }

  /** Writes a checkpoint of the current step; returns its tensor file. */
  save(): string {
    const { cfg } = this;
    const pos = this.data.position(this.step * cfg.batchSize);
    const last = this.lastMetrics;
    const state: CheckpointState = {
      format: 'ddar-train/1',
      step: this.step,
      emaUpdates: this.ema.numUpdates,
      position: { ...pos, seed: cfg.seed },
      config: cfg,
      metrics: last ? { loss: last.loss, ce: last.ce, mse: last.mse, lr: last.lr } : {},
    };
    const path = saveCheckpoint(
      cfg.out,
      state,
      {
        model: this.student.module.stateDict(),
        ema: this.ema.stateDict(),
        optim: this.opt.stateDict(),
      },
      cfg.keepCheckpoints,
    );
    this.opts.onLog?.(`checkpoint ${path}`);
    return path;
  }

  private log(entry: Record<string, number | string>): void {
    appendFileSync(this.metricsPath, JSON.stringify(entry) + '\n');
  }

  /** Trains up to `until` steps (default cfg.steps), checkpointing, validating and logging as
   *  configured; a final checkpoint is written at the end. Returns the metrics of every step. */
  run(until = this.cfg.steps): StepMetrics[] {
    const { cfg } = this;
    const all: StepMetrics[] = [];
    const t0 = performance.now();
    const s0 = this.step;
    while (this.step < until) {
      const m = this.trainStep();
      all.push(m);
      const done = this.step;
      if (done % cfg.logEvery === 0 || done === until) this.log({ ...m, step: done });
      const rate = (done - s0) / Math.max((performance.now() - t0) / 1000, 1e-9);
      this.opts.onProgress?.({
        step: done,
        total: cfg.steps,
        stepsPerSec: rate,
        loss: m.loss,
        etaSec: rate > 0 ? (cfg.steps - done) / rate : Infinity,
      });
      if (done % cfg.validateEvery === 0 && this.data.numVal > 0) {
        const r = this.validate();
        this.log({ step: done, ...flattenReport(r) });
        this.opts.onLog?.(
          `validation at step ${done}: 1-step agreement ${r.agreement1.toFixed(4)}, 2-step [${r.twoStep.join(', ')}] ${r.agreement2.toFixed(4)}`,
        );
      }
      if (done % cfg.checkpointEvery === 0 && done !== until) this.save();
    }
    if (!hasCheckpoint(cfg.out) || all.length > 0) this.save();
    return all;
  }
}
