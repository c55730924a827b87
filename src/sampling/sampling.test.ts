import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/rng.js';
import {
  applyTemperature_,
  cfgMix,
  kthLargest,
  sampleCategorical,
  softmaxRows,
  topKFilter_,
  topPFilterLlamaGen_,
  topPFilterVar_,
} from './index.js';

test('kthLargest matches a full sort on random rows of odd sizes', () => {
  const rng = new Rng(3);
  for (const n of [1, 7, 33, 257, 1000]) {
    const row = rng.normal(n) as Float32Array;
    const sorted = Array.from(row).sort((a, b) => b - a);
    for (const k of [1, 2, Math.ceil(n / 2), n]) assert.equal(kthLargest(row, k), sorted[k - 1]);
  }
});

test('top-k keeps ties at the k-th value', () => {
  const l = Float32Array.from([1, 3, 2, 3, 0, 2]);
  topKFilter_(l, 1, 6, 3); // 3rd largest is 2: both 2s survive
  assert.deepEqual(Array.from(l), [-Infinity, 3, 2, 3, -Infinity, 2]);
});

test('LlamaGen top-p keeps the first token crossing p', () => {
  // probabilities 0.5, 0.3, 0.2 (descending)
  const l = Float32Array.from([Math.log(0.2), Math.log(0.5), Math.log(0.3)]);
  topPFilterLlamaGen_(l, 1, 3, 0.6); // cum before: 0, 0.5, 0.8 → drop only the third
  assert.equal(l[0], -Infinity);
  assert.ok(Number.isFinite(l[1] as number) && Number.isFinite(l[2] as number));
  const m = Float32Array.from([Math.log(0.2), Math.log(0.5), Math.log(0.3)]);
  topPFilterLlamaGen_(m, 1, 3, 0.4); // cum before second is 0.5 > 0.4 → keep only top-1
  assert.deepEqual([m[0], m[2]], [-Infinity, -Infinity]);
});

test('VAR top-p drops the tail whose mass is at most 1 − p', () => {
  const l = Float32Array.from([Math.log(0.2), Math.log(0.5), Math.log(0.3)]);
  topPFilterVar_(l, 1, 3, 0.8); // ascending cum 0.2 ≤ 0.2 → drop 0.2; 0.5 > 0.2 stop
  assert.equal(l[0], -Infinity);
  assert.ok(Number.isFinite(l[2] as number));
  const m = Float32Array.from([Math.log(0.2), Math.log(0.5), Math.log(0.3)]);
  topPFilterVar_(m, 1, 3, 0.1); // tail mass ≤ 0.9: 0.2, 0.5 → keep the largest only
  assert.deepEqual([m[0], m[2]], [-Infinity, -Infinity]);
  assert.ok(Number.isFinite(m[1] as number));
});

test('temperature, softmax and cfgMix', () => {
  const l = Float32Array.from([2, 4]);
  applyTemperature_(l, 2);
  assert.deepEqual(Array.from(l), [1, 2]);
  const p = softmaxRows(Float32Array.from([0, -Infinity, 0]), 1, 3);
  assert.deepEqual(Array.from(p), [0.5, 0, 0.5]);
  assert.deepEqual(Array.from(cfgMix(Float32Array.from([3]), Float32Array.from([1]), 2)), [5]);
});

test('sampleCategorical follows the distribution (chi-square) and is deterministic', () => {
  const V = 5;
  const probs = Float32Array.from([0.1, 0.2, 0.0, 0.3, 0.4]);
  const n = 20000;
  const rows = new Float32Array(n * V);
  for (let i = 0; i < n; i++) rows.set(probs, i * V);
  const a = sampleCategorical(rows, n, V, new Rng(11));
  const b = sampleCategorical(rows, n, V, new Rng(11));
  assert.deepEqual(a, b);
  const counts = new Array<number>(V).fill(0);
  for (const x of a) counts[x] = (counts[x] as number) + 1;
  assert.equal(counts[2], 0);
  let chi = 0;
  for (let j = 0; j < V; j++) {
    const e = n * (probs[j] as number);
    if (e > 0) chi += ((counts[j] as number) - e) ** 2 / e;
  }
  assert.ok(chi < 16.3, `chi-square ${chi} (3 dof, p = 0.001 threshold 16.3)`); // deterministic seed
});
