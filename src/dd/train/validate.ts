// Validation on held-out (class, ε, tokens) pairs:
//   per timestep t of the training list and per position range (LlamaGen quarters, VAR scales),
//   over the predicted positions of that range: token accuracy (argmax logits = target) and
//   latent MSE (‖conti − codebook[target]‖² / d);
//   flow-map agreement of 1-step ([0]) and 2-step ([0, t1]) samples from the pairs' own ε: the
//   fraction of tokens equal to the dataset's target (the student reproduces the teacher's
//   deterministic map exactly where it agrees), overall and per range.
//
// Letters: B batch, L tokens, V codebook size, d codebook dim.

import * as T from '../../tensor/index.js';
import type { Batch } from './data.js';
import { studentInput, targetVectors } from './loss.js';
import type { DDStudent } from './student.js';

export interface RangeMetrics {
  readonly range: string;
  readonly accuracy: number;
  readonly latentMse: number;
}

export interface ValidationReport {
  readonly samples: number;
  readonly byTimestep: readonly { readonly t: number; readonly ranges: readonly RangeMetrics[] }[];
  /** Fraction of sampled tokens equal to the target: 1-step and 2-step, overall. */
  readonly agreement1: number;
  readonly agreement2: number;
  /** Per range: [name, 1-step, 2-step]. */
  readonly agreementByRange: readonly (readonly [string, number, number])[];
  readonly splitT: number;
  readonly twoStep: readonly number[];
}

export interface ValidateOpts {
  readonly timesteps: readonly number[];
  /** The 2-step t_list (default [0, the largest positive training timestep]). */
  readonly twoStep?: readonly number[];
  readonly splitT: number;
  /** Samples per forward pass (default 32). */
  readonly batch?: number;
}

/** Runs the validation pass on `pairs` (all of them, in batches). No gradients. */
export function validate(student: DDStudent, pairs: Batch, o: ValidateOpts): ValidationReport {
  const { seqLen: L, codeDim: d, vocab: V, codebook } = student;
  const N = pairs.classes.length;
  if (N === 0) throw new Error('validate: no held-out pairs (set valSamples > 0)');
  const bs = o.batch ?? 32;
  const t1 = Math.max(...o.timesteps.filter((t) => t > 0), 1);
  const twoStep = o.twoStep ?? [0, Math.min(t1, student.maxT)];
  const R = student.ranges;
  const acc = o.timesteps.map(() => R.map(() => ({ n: 0, hit: 0, se: 0 })));
  const agree = [R.map(() => ({ n: 0, hit: 0 })), R.map(() => ({ n: 0, hit: 0 }))];
  T.noGrad(() => {
    for (let a = 0; a < N; a += bs) {
      const B = Math.min(bs, N - a);
      const cls = pairs.classes.subarray(a, a + B);
      const tok = pairs.tokens.subarray(a * L, (a + B) * L);
      const noise = pairs.noise.subarray(a * L * d, (a + B) * L * d);
      const vecs = targetVectors(tok, codebook, d);
      o.timesteps.forEach((t, ti) => {
        const n = student.dataTokens(t);
        const x = studentInput(vecs, noise, new Int32Array(B).fill(n), L, d);
        const out = student.forward(x, cls, new Int32Array(B).fill(t));
        const lg = out.logits.data;
        const ct = out.conti.data;
        R.forEach((r, ri) => {
          const m = acc[ti]?.[ri] as { n: number; hit: number; se: number };
          for (let b = 0; b < B; b++) {
            for (let j = Math.max(r.from, n); j < r.to; j++) {
              const row = b * L + j;
              let best = 0;
              for (let v = 1; v < V; v++)
                if ((lg[row * V + v] as number) > (lg[row * V + best] as number)) best = v;
              m.n++;
              if (best === tok[row]) m.hit++;
              for (let k = 0; k < d; k++)
                m.se += ((ct[row * d + k] as number) - (vecs[row * d + k] as number)) ** 2 / d;
            }
          }
        });
      });
      [[0], twoStep].forEach((tl, si) => {
        const got = student.sample(cls, noise, tl, o.splitT);
        R.forEach((r, ri) => {
          const m = agree[si]?.[ri] as { n: number; hit: number };
          for (let b = 0; b < B; b++)
            for (let j = r.from; j < r.to; j++) {
              m.n++;
              if (got[b * L + j] === tok[b * L + j]) m.hit++;
            }
        });
      });
    }
  });
  const frac = (hit: number, n: number) => (n > 0 ? hit / n : NaN);
  const total = (ms: { n: number; hit: number }[]) =>
    frac(
      ms.reduce((s, m) => s + m.hit, 0),
      ms.reduce((s, m) => s + m.n, 0),
    );
  return {
    samples: N,
    byTimestep: o.timesteps.map((t, ti) => ({
      t,
      ranges: R.map((r, ri) => {
        const m = acc[ti]?.[ri] as { n: number; hit: number; se: number };
        return { range: r.name, accuracy: frac(m.hit, m.n), latentMse: frac(m.se, m.n) };
      }),
    })),
    agreement1: total(agree[0] as { n: number; hit: number }[]),
    agreement2: total(agree[1] as { n: number; hit: number }[]),
    agreementByRange: R.map(
      (r, ri) =>
        [
          r.name,
          frac(agree[0]?.[ri]?.hit ?? 0, agree[0]?.[ri]?.n ?? 0),
          frac(agree[1]?.[ri]?.hit ?? 0, agree[1]?.[ri]?.n ?? 0),
        ] as const,
    ),
    splitT: o.splitT,
    twoStep,
  };
}

/** Flat metrics of a report for the JSONL log (val/… keys). */
export function flattenReport(r: ValidationReport): Record<string, number> {
  const out: Record<string, number> = { 'val/agree1': r.agreement1, 'val/agree2': r.agreement2 };
  for (const { t, ranges } of r.byTimestep)
    for (const m of ranges) {
      out[`val/t${t}/acc/${m.range}`] = m.accuracy;
      out[`val/t${t}/mse/${m.range}`] = m.latentMse;
    }
  return out;
}
