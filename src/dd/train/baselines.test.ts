import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../tensor/rng.js';
import { countMarginals, emptyMarginals, sampleOnestep } from './baselines.js';
import { empirical, exactJoint, productOfMarginals, tvDistance } from './exact.js';
import { ddLoss, studentInput } from './loss.js';
import * as T from '../../tensor/index.js';
import { tinyRun } from './testing.js';
import { MarkovTeacher } from '../../../test/helpers/markov-teacher.js';

test('onestep* draws each position independently from its class marginal', () => {
  // "AA" / "BB" each ½ for class 0: the marginals are ½/½ per position, the joint is not.
  const t = countMarginals(
    emptyMarginals(2, 2, 2),
    Int32Array.of(0, 0, 1),
    Int32Array.of(0, 0, 1, 1, 1, 0),
  );
  const n = 40000;
  const s = sampleOnestep(t, new Int32Array(n).fill(0), new Rng(1));
  const p = empirical(s, 2, 2);
  for (const v of p)
    assert.ok(Math.abs(v - 0.25) < 0.01, `onestep* gives every pair ¼, got ${[...p]}`);
  assert.deepEqual(
    [...sampleOnestep(t, new Int32Array(5).fill(1), new Rng(2))],
    [1, 0, 1, 0, 1, 0, 1, 0, 1, 0],
  );
  assert.throws(
    () => sampleOnestep(emptyMarginals(3, 2, 2), Int32Array.of(2), new Rng(1)),
    /class 2 has no samples/,
  );
});

test('exact joint: enumerating through generate() gives the closed-form chain probabilities', () => {
  const chain = new MarkovTeacher(2, 3, 4, 2, 9);
  for (const c of [0, 1]) {
    const p = exactJoint(chain, c, 20);
    for (let s = 0; s < p.length; s++) {
      const seq = [Math.floor(s / 27) % 3, Math.floor(s / 9) % 3, Math.floor(s / 3) % 3, s % 3];
      assert.ok(Math.abs((p[s] as number) - chain.prob(c, seq)) < 1e-7, `sequence ${seq}`);
    }
    const q = productOfMarginals(p, 4, 3);
    assert.ok(Math.abs(q.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.ok(tvDistance(p, q) > 0.05, 'a dependent chain is not its product of marginals');
  }
  // an LlamaGen teacher's enumerated joint is a distribution
  const p = exactJoint(tinyRun(16).teacher, 1);
  assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
});

test('the loss counts only predicted positions (j ≥ data tokens) and matches a direct computation', () => {
  const B = 2,
    L = 3,
    V = 4,
    d = 2;
  const logits = new T.Tensor(new Rng(5).normal(B * L * V) as Float32Array, [B, L, V]);
  const conti = new T.Tensor(new Rng(6).normal(B * L * d) as Float32Array, [B, L, d]);
  const targets = Int32Array.of(0, 1, 2, 3, 2, 1);
  const vecs = new Rng(7).normal(B * L * d) as Float32Array;
  const nData = Int32Array.of(1, 0);
  const r = ddLoss({ logits, conti }, targets, vecs, nData, { ceWeight: 1, mseWeight: 2 });
  let ce = 0,
    se = 0,
    n = 0;
  for (let b = 0; b < B; b++)
    for (let j = nData[b] as number; j < L; j++) {
      const row = logits.data.subarray((b * L + j) * V, (b * L + j + 1) * V);
      let z = 0;
      for (const x of row) z += Math.exp(x);
      const lse = Math.log(z);
      ce += lse - (row[targets[b * L + j] as number] as number);
      for (let k = 0; k < d; k++)
        se +=
          ((conti.data[(b * L + j) * d + k] as number) - (vecs[(b * L + j) * d + k] as number)) **
          2;
      n++;
    }
  assert.equal(r.count, 5);
  assert.ok(Math.abs(r.ce - ce / n) < 1e-5);
  assert.ok(Math.abs(r.mse - se / (n * d)) < 1e-5);
  assert.ok(Math.abs(r.loss.item() - (ce / n + (2 * se) / (n * d))) < 1e-5);
  const x = studentInput(
    Float32Array.of(1, 1, 2, 2, 3, 3),
    Float32Array.of(9, 9, 8, 8, 7, 7),
    Int32Array.of(2),
    3,
    2,
  );
  assert.deepEqual([...x.data], [1, 1, 2, 2, 7, 7]);
});
