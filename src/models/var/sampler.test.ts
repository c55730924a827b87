import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sampleCategorical,
  softmaxRows,
  topKFilter_,
  topPFilterVar_,
} from '../../sampling/index.js';
import { Rng } from '../../tensor/rng.js';
import { VarSampler } from './sampler.js';

function reference(
  logits: Float32Array,
  rows: number,
  V: number,
  k: number,
  p: number,
  seed: number,
): Int32Array {
  const l = logits.slice();
  topKFilter_(l, rows, V, k);
  topPFilterVar_(l, rows, V, p);
  return sampleCategorical(softmaxRows(l, rows, V), rows, V, new Rng(seed));
}

test('fused VAR sampler makes exactly the picks of topKFilter_ → topPFilterVar_ → softmax → sampleCategorical', () => {
  const s = new VarSampler();
  const cases: [number, number, number, number][] = [
    [64, 4096, 900, 0.96],
    [64, 4096, 900, 0.95],
    [50, 300, 0, 0.5],
    [50, 300, 17, 0],
    [50, 300, 0, 0],
    [40, 64, 10, 0.99],
    [40, 8, 3, 0.3],
  ];
  for (const [rows, V, k, p] of cases) {
    for (const quant of [0, 4]) {
      const z = new Rng(rows + V + k).normal(rows * V) as Float32Array;
      // Quantised logits create many exact ties at the top-k and top-p boundaries.
      const logits = quant ? z.map((x) => Math.round(x * quant) / quant) : z.map((x) => 3 * x);
      for (const seed of [0, 1]) {
        const want = reference(logits, rows, V, k, p, seed);
        const got = s.sample(logits, rows, V, k, p, new Rng(seed));
        assert.deepEqual(
          [...got],
          [...want],
          `rows ${rows} V ${V} k ${k} p ${p} quant ${quant} seed ${seed}`,
        );
      }
    }
  }
});

test('fused VAR sampler: top-k 1 is greedy and logits are left untouched', () => {
  const logits = Float32Array.from([0.1, 2, -1, 2.5, 0, 9, 1, 3]);
  const copy = logits.slice();
  const got = new VarSampler().sample(logits, 2, 4, 1, 0.9, new Rng(3));
  assert.deepEqual([...got], [3, 1]);
  assert.deepEqual(logits, copy);
});
