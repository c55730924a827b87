import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/rng.js';
import { sampleCategorical } from './categorical.js';
import { filteredProbsReference, type FilterSettings } from './filter.js';
import { FusedSampler, filteredProbs } from './fused.js';

// [rows, V, top-k, top-p, temperature]; top-p "off" is 1 for LlamaGen and 0 for VAR.
const CASES: readonly [number, number, number, number, number][] = [
  [64, 4096, 900, 0.96, 1],
  [64, 4096, 900, 0.95, 0.7],
  [50, 300, 0, 0.5, 1],
  [50, 300, 17, 0, 1.3],
  [50, 300, 17, 1, 1],
  [50, 300, 0, 0, 1],
  [40, 64, 10, 0.99, 1],
  [40, 8, 3, 0.3, 2],
  [40, 8, 8, 0.6, 1],
];

/** Random logits; quantised ones create many exact ties at the top-k and top-p boundaries. */
function logitsFor(rows: number, V: number, k: number, quant: number): Float32Array {
  const z = new Rng(rows + V + k).normal(rows * V) as Float32Array;
  return quant ? z.map((x) => Math.round(x * quant) / quant) : z.map((x) => 3 * x);
}

function settingsFor(rule: 'llamagen' | 'var', k: number, p: number, t: number): FilterSettings {
  return rule === 'llamagen'
    ? { rule, topK: k, topP: p, temperature: t }
    : { rule, topK: k, topP: p };
}

test('fused sampler makes exactly the picks of temperature → top-k → top-p → softmax → sampleCategorical (both top-p rules)', () => {
  const s = new FusedSampler();
  for (const rule of ['llamagen', 'var'] as const) {
    for (const [rows, V, k, p, t] of CASES) {
      for (const quant of [0, 4]) {
        const logits = logitsFor(rows, V, k, quant);
        const set = settingsFor(rule, k, p, t);
        for (const seed of [0, 1]) {
          const want = sampleCategorical(
            filteredProbsReference(logits.slice(), rows, V, set),
            rows,
            V,
            new Rng(seed),
          );
          const got = s.sample(logits, rows, V, set, new Rng(seed));
          assert.deepEqual(
            [...got],
            [...want],
            `${rule} rows ${rows} V ${V} k ${k} p ${p} t ${t} quant ${quant} seed ${seed}`,
          );
        }
      }
    }
  }
});

test('fused filteredProbs equals the composed filters bit for bit (both top-p rules) and leaves logits alone', () => {
  for (const rule of ['llamagen', 'var'] as const) {
    for (const [rows, V, k, p, t] of CASES) {
      for (const quant of [0, 4]) {
        const logits = logitsFor(rows, V, k, quant);
        const copy = logits.slice();
        const set = settingsFor(rule, k, p, t);
        const want = filteredProbsReference(logits.slice(), rows, V, set);
        const got = filteredProbs(logits, rows, V, set);
        assert.deepEqual(
          got,
          want,
          `${rule} rows ${rows} V ${V} k ${k} p ${p} t ${t} quant ${quant}`,
        );
        assert.deepEqual(logits, copy);
      }
    }
  }
});

test('fused sampler: top-k 1 is greedy and logits are left untouched', () => {
  const logits = Float32Array.from([0.1, 2, -1, 2.5, 0, 9, 1, 3]);
  const copy = logits.slice();
  const got = new FusedSampler().sample(
    logits,
    2,
    4,
    { rule: 'var', topK: 1, topP: 0.9 },
    new Rng(3),
  );
  assert.deepEqual([...got], [3, 1]);
  const g = new FusedSampler().sample(
    logits,
    2,
    4,
    { rule: 'llamagen', topK: 1, temperature: 0.5 },
    new Rng(3),
  );
  assert.deepEqual([...g], [3, 1]);
  assert.deepEqual(logits, copy);
});
