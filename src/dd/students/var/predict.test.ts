import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { concatPos, dataTokens } from './config.js';
import { ddStep, finalPredict, getFinalSequence, nearestCodebook, perturb } from './predict.js';
import { argmaxRows } from '../../../sampling/argmax.js';
import { smallStudent } from './testing.js';

/** Brute force: exact float64 squared distances, first index on ties. */
function bruteNearest(
  x: Float32Array,
  N: number,
  E: Float32Array,
  V: number,
  d: number,
): Int32Array {
  const out = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    let best = Infinity;
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += ((x[n * d + c] as number) - (E[v * d + c] as number)) ** 2;
      if (s < best) {
        best = s;
        out[n] = v;
      }
    }
  }
  return out;
}

test('nearestCodebook equals brute force (random, far from the origin, duplicate rows → first index)', () => {
  const V = 300;
  const d = 32;
  const N = 1100; // more than two GEMM chunks
  const E = new T.Rng(1).normal(V * d) as Float32Array;
  for (let c = 0; c < d; c++) E[250 * d + c] = E[17 * d + c] as number; // exact duplicate of row 17
  const x = new T.Rng(2).normal(N * d) as Float32Array;
  for (let c = 0; c < d; c++) x[5 * d + c] = E[250 * d + c] as number; // exactly on the duplicate
  for (let i = 100 * d; i < 200 * d; i++) x[i] = (x[i] as number) * 1e-3 + 1000; // large offset
  for (let c = 0; c < d; c++)
    x[300 * d + c] = ((E[3 * d + c] as number) + (E[4 * d + c] as number)) / 2; // midpoint
  const got = nearestCodebook(new T.Tensor(x, [N, d]), new T.Tensor(E, [V, d]));
  assert.deepEqual([...got], [...bruteNearest(x, N, E, V, d)]);
  assert.equal(got[5], 17);
});

test('argmaxRows: first index on ties, −∞ rows', () => {
  const x = Float32Array.from([1, 3, 3, -Infinity, -Infinity, 0, 2, 2, 2]);
  assert.deepEqual([...argmaxRows(x, 3, 3)], [1, 2, 0]);
});

test('perturb keeps the first cum_t tokens per sample and takes the noise elsewhere', () => {
  const m = smallStudent();
  const x = T.full([2, 30, 8], 1);
  const noise = T.full([2, 30, 8], -1);
  const p = perturb(m, x, Int32Array.from([1, 3]), noise);
  const firstNoise = (b: number) => [...p.data.slice(b * 240, (b + 1) * 240)].indexOf(-1) / 8;
  assert.deepEqual([firstNoise(0), firstNoise(1)], [1, 14]);
});

test('ddStep (fused heads) equals getFinalSequence(finalPredict(…)) for every t, split_t and mixed t', () => {
  const m = smallStudent();
  const s = m.sched;
  const rng = new T.Rng(11);
  const E = new T.Tensor(rng.normal(64 * 8), [64, 8]);
  const labels = Int32Array.from([2, 9, 0]);
  const B = 3;
  // Data part: codebook rows for the greedy range, continuous vectors after (as in step 2).
  const idx = rng.randint(B * 30, 64);
  const data = T.embedding(E, new T.Tensor(idx, [B, 30]));
  const noise = new T.Tensor(rng.normal(B * 30 * 8), [B, 30, 8]);
  const tLists: (number | Int32Array)[] = [0, 1, 2, 3, Int32Array.from([0, 3, 1])];
  for (const t of tLists) {
    for (let split = 0; split <= 4; split++) {
      const x = perturb(m, data, t, noise);
      const fp = finalPredict(m, E, labels, x, t);
      const want = getFinalSequence(s, E, fp.conti, fp.logits, split);
      const got = ddStep(m, E, labels, x, t, split);
      let d = 0;
      want.data.forEach((v, i) => (d = Math.max(d, Math.abs(v - (got.data[i] as number)))));
      assert.ok(d < 1e-5, `t ${String(t)}, split ${split}: max diff ${d}`);
    }
  }
});

test('finalPredict: data positions pass through with one-hot logits at the input row', () => {
  const m = smallStudent();
  const rng = new T.Rng(12);
  const E = new T.Tensor(rng.normal(64 * 8), [64, 8]);
  const idx = rng.randint(30, 64);
  const x = perturb(
    m,
    T.embedding(E, new T.Tensor(idx, [1, 30])),
    2,
    new T.Tensor(rng.normal(240), [1, 30, 8]),
  );
  const fp = finalPredict(m, E, Int32Array.from([4]), x, 2);
  const n = dataTokens(m.sched, 2);
  for (let j = 0; j < n; j++) {
    const row = fp.logits.data.slice(j * 64, (j + 1) * 64);
    assert.equal(row.filter((v) => v === 0).length, 1);
    assert.equal(row.indexOf(0), idx[j]);
    assert.equal(row.filter((v) => v === -Infinity).length, 63);
    assert.deepEqual(
      [...fp.conti.data.slice(j * 8, (j + 1) * 8)],
      [...x.data.slice(j * 8, (j + 1) * 8)],
    );
  }
  assert.ok(Number.isFinite(fp.logits.data[n * 64] as number));
  assert.equal(concatPos(m.sched, 2), n);
});
