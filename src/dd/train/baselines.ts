// The parallel-decoding baselines of the DD paper, for comparison with DD students.
//
// onestep* (both families): every position sampled independently from its marginal token
//   distribution given the class, estimated from teacher samples — here the tokens of a
//   distillation dataset, counted per (class, position). One "step", no network call. It is
//   the best any method that draws all positions independently can do, so its distance to the
//   teacher measures how much the tokens depend on each other.
// skip-n (VAR): the teacher samples scales 0 … SN−n−1 as usual (CFG, top-k, top-p), then ONE
//   more teacher pass predicts the n remaining scales in parallel. The references do not state
//   the paper's fill rule for the skipped scales; we take the natural one: the skipped scales'
//   inputs are the next-scale maps of f̂ as it stands after scale SN−n−1 (their own residuals
//   unknown, i.e. zero), all n scales' logits come from one block-causal teacher-forcing pass,
//   and every token is drawn from its own guided, filtered distribution. SN−n+1 network passes.
//
// Letters: B batch, L tokens, V codebook size, Cv codebook dim, SN scales, C classes.

import { generate } from '../../models/var/generate.js';
import type { VectorQuantizer2 } from '../../models/var/quant.js';
import type { VAR } from '../../models/var/var.js';
import { cfgMix } from '../../sampling/cfg.js';
import { sampleCategorical } from '../../sampling/categorical.js';
import { FusedSampler } from '../../sampling/fused.js';
import * as T from '../../tensor/index.js';
import type { Dataset } from '../dataset.js';

/** Per-class, per-position token counts [C, L, V] (float64) and the samples per class. */
export interface MarginalTable {
  readonly numClasses: number;
  readonly seqLen: number;
  readonly vocab: number;
  readonly counts: Float64Array;
  readonly perClass: Float64Array;
}

/** Counts tokens [n, L] with classes [n] into a new or existing table. */
export function countMarginals(
  table: MarginalTable,
  classes: Int32Array,
  tokens: Int32Array,
): MarginalTable {
  const { seqLen: L, vocab: V, numClasses: C } = table;
  if (tokens.length !== classes.length * L)
    throw new Error(`countMarginals: tokens must be [${classes.length}, ${L}]`);
  classes.forEach((c, i) => {
    if (c < 0 || c >= C) throw new Error(`countMarginals: class ${c} is outside [0, ${C})`);
    table.perClass[c] = (table.perClass[c] as number) + 1;
    for (let j = 0; j < L; j++) {
      const v = tokens[i * L + j] as number;
      if (v < 0 || v >= V) throw new Error(`countMarginals: token ${v} is outside [0, ${V})`);
      table.counts[(c * L + j) * V + v] = (table.counts[(c * L + j) * V + v] as number) + 1;
    }
  });
  return table;
}

export function emptyMarginals(numClasses: number, seqLen: number, vocab: number): MarginalTable {
  return {
    numClasses,
    seqLen,
    vocab,
    counts: new Float64Array(numClasses * seqLen * vocab),
    perClass: new Float64Array(numClasses),
  };
}

/** onestep*'s marginals from every sample of a dataset (or of its first `limit` samples). */
export function fitOnestep(
  ds: Dataset,
  numClasses: number,
  vocab: number,
  limit = Infinity,
): MarginalTable {
  const table = emptyMarginals(numClasses, ds.seqLen, vocab);
  let seen = 0;
  for (let i = 0; i < ds.index.chunks.length && seen < limit; i++) {
    const c = ds.readChunk(i);
    const n = Math.min(c.classes.length, limit - seen);
    countMarginals(table, c.classes.subarray(0, n), c.tokens.subarray(0, n * ds.seqLen));
    seen += n;
  }
  return table;
}

/** onestep*: tokens [B, L], each position drawn independently from its class marginal (one
 *  uniform per token from rng, row-major). */
export function sampleOnestep(table: MarginalTable, labels: Int32Array, rng: T.Rng): Int32Array {
  const { seqLen: L, vocab: V, numClasses: C } = table;
  const B = labels.length;
  const probs = new Float32Array(B * L * V);
  labels.forEach((c, b) => {
    if (c < 0 || c >= C || (table.perClass[c] as number) === 0)
      throw new Error(
        `onestep*: class ${c} has no samples in the marginal table; fit it on a dataset that covers the class`,
      );
    for (let j = 0; j < L; j++)
      for (let v = 0; v < V; v++)
        probs[(b * L + j) * V + v] =
          (table.counts[(c * L + j) * V + v] as number) / (table.perClass[c] as number);
  });
  return sampleCategorical(probs, B * L, V, rng);
}

export interface SkipOpts {
  /** Scales predicted in the final parallel pass (1 ≤ n ≤ SN − 1). */
  readonly n: number;
  readonly cfg: number;
  readonly topK: number;
  readonly topP: number;
}

/** skip-n for VAR (see the header): labels [B] → token indices [B, L] in scale order. */
export function sampleSkipN(
  model: VAR,
  quant: VectorQuantizer2,
  labels: Int32Array,
  o: SkipOpts,
  rng: T.Rng,
): Int32Array {
  const { SN, L, cum, patchNums } = model.sched;
  const { n } = o;
  if (!Number.isInteger(n) || n < 1 || n > SN - 1)
    throw new Error(
      `skip-n: n ${n} must be an integer in [1, ${SN - 1}] (the teacher samples at least the first scale)`,
    );
  const B = labels.length;
  const V = model.config.vocab_size;
  const Cv = model.config.Cvae;
  const keep = SN - n;
  return T.noGrad(() => {
    const r = generate(model, quant, {
      labels,
      cfg: o.cfg,
      topK: o.topK,
      topP: o.topP,
      rng,
      endPoint: keep,
    });
    const out = new Int32Array(B * L);
    r.idx.forEach((ix, k) => {
      const m = ix.length / B;
      for (let b = 0; b < B; b++)
        out.set(ix.subarray(b * m, (b + 1) * m), b * L + (cum[k] as number));
    });
    // Teacher-forcing inputs of scales 1 … SN−1: the real next-scale maps up to scale keep,
    // then area(f̂_{<keep}) for every skipped scale.
    const parts: T.Tensor[] = [];
    let f = T.zeros([B, Cv, model.sched.HW, model.sched.HW]);
    for (let k = 0; k < SN - 1; k++) {
      const pn = patchNums[k + 1] as number;
      let next: T.Tensor;
      if (k < keep) {
        const step = quant.nextAutoregressiveInput(
          k,
          f,
          quant.lookup(r.idx[k] as Int32Array, B, patchNums[k] as number),
        );
        f = step.fhat;
        next = step.next;
      } else next = T.resize2d(f, pn, pn, 'area');
      parts.push(T.transpose(T.reshape(next, [B, Cv, pn * pn]), 1, 2));
    }
    const x = T.concat(parts, 1); // [B, L − pn_0², Cv]
    const both = new Int32Array(2 * B);
    both.set(labels);
    both.fill(model.numClasses, B);
    const logits = model.forward(both, T.concat([x, x], 0)).data as Float32Array; // [2B, L, V]
    const sampler = new FusedSampler();
    for (let k = keep; k < SN; k++) {
      const a = cum[k] as number;
      const m = (cum[k + 1] as number) - a;
      const cond = new Float32Array(B * m * V);
      const unc = new Float32Array(B * m * V);
      for (let b = 0; b < B; b++) {
        cond.set(logits.subarray((b * L + a) * V, (b * L + a + m) * V), b * m * V);
        unc.set(logits.subarray(((B + b) * L + a) * V, ((B + b) * L + a + m) * V), b * m * V);
      }
      const w = (o.cfg * k) / (SN - 1);
      const idx = sampler.sample(
        cfgMix(cond, unc, 1 + w),
        B * m,
        V,
        { topK: o.topK, topP: o.topP, rule: 'var' },
        rng,
      );
      for (let b = 0; b < B; b++) out.set(idx.subarray(b * m, (b + 1) * m), b * L + a);
    }
    return out;
  });
}
