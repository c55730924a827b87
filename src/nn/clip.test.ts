// clipGradNorm / gradNorm against hand-computed norms and torch's 1e-6 eps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromArray } from '../tensor/tensor.js';
import { clipGradNorm, gradNorm } from './clip.js';

const f64 = (v: number[]) => fromArray(v, [v.length], 'float64').requireGrad();

test('clipGradNorm: global L2 norm with torch eps, returns the pre-clip norm', () => {
  const a = f64([0, 0]);
  const b = f64([0]);
  const c = f64([7]); // no gradient: ignored
  a.grad = fromArray([3, 4], [2], 'float64');
  b.grad = fromArray([12], [1], 'float64');
  assert.equal(gradNorm([a, b, c]), 13);
  assert.equal(clipGradNorm([a, b, c], 100), 13);
  assert.deepEqual(a.grad.toArray(), [3, 4]);
  assert.equal(clipGradNorm([a, b, c, a], 6.5), 13); // duplicates count once
  const coef = 6.5 / (13 + 1e-6);
  assert.deepEqual(a.grad.toArray(), [3 * coef, 4 * coef]);
  assert.deepEqual(b.grad.toArray(), [12 * coef]);
  assert.ok(Math.abs(gradNorm([a, b]) - 6.5) < 1e-6);
  b.grad = fromArray([NaN], [1], 'float64');
  assert.ok(Number.isNaN(clipGradNorm([a, b], 1)));
  assert.ok(Number.isNaN(a.grad.data[0] as number));
});
