import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { ddConfig } from './config.js';
import { DDTransformer, randomizeDD } from './student.js';
import { finalPredict, getFinalX, nearestCodebook, perturbData, toLatent } from './predict.js';
import { argmaxRows } from '../../../sampling/argmax.js';

function unitRows(rng: T.Rng, V: number, c: number): Float32Array {
  const cb = rng.normal(V * c) as Float32Array;
  for (let k = 0; k < V; k++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += (cb[k * c + j] as number) ** 2;
    for (let j = 0; j < c; j++) cb[k * c + j] = (cb[k * c + j] as number) / Math.sqrt(s);
  }
  return cb;
}

test('nearestCodebook: brute-force argmin of squared distances, first index on ties, row subsets', () => {
  const c = 8;
  const V = 300;
  const rng = new T.Rng(1);
  const cb = unitRows(rng, V, c);
  cb.set(cb.subarray(5 * c, 6 * c), 200 * c); // row 200 duplicates row 5
  const N = 50;
  const x = rng.normal(N * c) as Float32Array;
  x.set(cb.subarray(200 * c, 201 * c), 7 * c); // exactly a (duplicated) codebook row
  const got = nearestCodebook(x, cb, c);
  for (let n = 0; n < N; n++) {
    let best = Infinity;
    let bi = -1;
    for (let k = 0; k < V; k++) {
      let d = 0;
      for (let j = 0; j < c; j++) d += ((cb[k * c + j] as number) - (x[n * c + j] as number)) ** 2;
      if (d < best) [best, bi] = [d, k];
    }
    assert.equal(got[n], bi, `row ${n}`);
  }
  assert.equal(got[7], 5, 'a tie goes to the first index');
  const sub = nearestCodebook(x, cb, c, [3, 9]);
  assert.deepEqual([sub[3], sub[9], sub[4]], [got[3], got[9], 0]);
  assert.throws(() => nearestCodebook(x.subarray(0, 7), cb, c), /rows of 8/);
});

test('argmaxRows: first maximum, −∞ rows with one 0', () => {
  const x = Float32Array.from([1, 3, 3, -Infinity, -Infinity, 0, -Infinity, -Infinity]);
  assert.deepEqual(Array.from(argmaxRows(x, 2, 4)), [1, 1]);
});

test('perturbData and toLatent follow the official layouts', () => {
  const data = Float32Array.from({ length: 2 * 4 * 2 }, (_, i) => i);
  const noise = Float32Array.from({ length: 16 }, (_, i) => -i - 1);
  const xt = perturbData(data, noise, [1, 3], 2, 4, 2);
  assert.deepEqual(Array.from(xt), [0, 1, -3, -4, -5, -6, -7, -8, 8, 9, 10, 11, 12, 13, -15, -16]);
  const lat = toLatent(
    new T.Tensor(
      Float32Array.from({ length: 1 * 4 * 3 }, (_, i) => i),
      [1, 4, 3],
    ),
  );
  assert.deepEqual(lat.shape, [1, 3, 2, 2]);
  assert.deepEqual(Array.from(lat.data), [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]);
});

test('finalPredict clamps the known part; getFinalX merges the heads at split_t', () => {
  const cfg = ddConfig(null, {
    dim: 32,
    n_layer: 1,
    n_head: 2,
    vocab_size: 16,
    block_size: 9,
    num_classes: 3,
    codebook_dim: 4,
  });
  const m = randomizeDD(new DDTransformer(cfg), new T.Rng(2));
  const cbd = unitRows(new T.Rng(3), 16, 4);
  const cb = new T.Tensor(cbd, [16, 4]);
  const x = new T.Tensor(new T.Rng(4).normal(2 * 9 * 4) as Float32Array, [2, 9, 4]);
  const labels = new T.Tensor(Int32Array.from([1, 2]), [2]);
  const idx = nearestCodebook(x.data as Float32Array, cbd, 4);
  T.noGrad(() => {
    const raw = m.forward(x, labels, [2, 5]);
    const fp = finalPredict(m, x, labels, [2, 5], idx);
    for (let b = 0; b < 2; b++) {
      const t = b === 0 ? 2 : 5;
      for (let j = 0; j < 9; j++) {
        const r = b * 9 + j;
        for (let v = 0; v < 16; v++) {
          const e = j < t ? (v === idx[r] ? 0 : -Infinity) : raw.logits.data[r * 16 + v];
          assert.equal(fp.logits.data[r * 16 + v], e);
        }
        for (let i = 0; i < 4; i++)
          assert.equal(fp.tokens.data[r * 4 + i], (j < t ? x : raw.tokens).data[r * 4 + i]);
      }
    }
    for (const split of [0, 3, 9, 20]) {
      const fx = getFinalX(fp, split, cb);
      const am = argmaxRows(fp.logits.data as Float32Array, 18, 16);
      for (let r = 0; r < 18; r++) {
        const j = r % 9;
        for (let i = 0; i < 4; i++) {
          const e = j < split ? cbd[(am[r] as number) * 4 + i] : fp.tokens.data[r * 4 + i];
          assert.equal(fx.data[r * 4 + i], e, `split ${split} row ${r}`);
        }
      }
    }
    assert.throws(() => getFinalX(fp, -1, cb), /split_t/);
    assert.throws(() => getFinalX(fp, 3, new T.Tensor(cbd.subarray(0, 60), [15, 4])), /\[16, 4\]/);
  });
});
