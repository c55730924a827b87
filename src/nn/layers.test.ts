// Layers: parameter names and shapes, values against hand-computed results, and float64
// finite-difference gradient checks w.r.t. inputs and parameters (parameters swapped for the
// float64 copies that gradCheck differentiates).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, randn64 } from '../tensor/gradcheck.js';
import { Rng } from '../tensor/rng.js';
import { Tensor, fromArray } from '../tensor/tensor.js';
import * as T from '../tensor/index.js';
import { Conv2d, Dropout, Embedding, GroupNorm, LayerNorm, Linear, RMSNorm } from './layers.js';

const rng = new Rng(2024, 3);
const rn = (s: number[]) => randn64(rng, s);
const TOL = 1e-6;

function names(m: { namedParameters(): [string, Tensor][] }): string[] {
  return m.namedParameters().map(([n, t]) => `${n}${JSON.stringify(t.shape)}`);
}

function check(f: (xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const r = gradCheck(f, inputs, rng);
  assert.ok(r.maxError < TOL, `gradient mismatch: ${JSON.stringify(r)}`);
}

test('Linear: names, zero init, value and gradients', () => {
  const lin = new Linear(3, 2);
  assert.deepEqual(names(lin), ['weight[2,3]', 'bias[2]']);
  assert.equal(lin.weight.dtype, 'float32');
  assert.ok(lin.weight.data.every((v) => v === 0));
  assert.deepEqual(names(new Linear(3, 2, { bias: false })), ['weight[2,3]']);

  lin.weight.data.set([1, 2, 3, 4, 5, 6]);
  lin.bias?.data.set([0.5, -1]);
  const y = lin.forward(fromArray([1, 0, -1, 2, 1, 1], [1, 2, 3]));
  assert.deepEqual(y.shape, [1, 2, 2]);
  assert.deepEqual(y.toArray(), [1 - 3 + 0.5, 4 - 6 - 1, 2 + 2 + 3 + 0.5, 8 + 5 + 6 - 1]);
  assert.throws(
    () => lin.forward(fromArray([1, 2], [1, 2])),
    /Linear: expected input \[\.\.\., 3\], got \[1, 2\]/,
  );

  check(
    ([x, w, b]) => {
      lin.weight = w as Tensor;
      lin.bias = b as Tensor;
      return lin.forward(x as Tensor);
    },
    [rn([2, 3, 3]), rn([2, 3]), rn([2])],
  );
  const nb = new Linear(4, 3, { bias: false });
  check(
    ([x, w]) => {
      nb.weight = w as Tensor;
      return nb.forward(x as Tensor);
    },
    [rn([5, 4]), rn([3, 4])],
  );
});

test('Linear.resetParameters follows torch bounds 1/sqrt(in)', () => {
  const lin = new Linear(16, 64).resetParameters(new Rng(1));
  const bound = 1 / 4;
  const w = lin.weight.toArray();
  assert.ok(w.every((v) => Math.abs(v) <= bound));
  assert.ok(Math.max(...w.map(Math.abs)) > 0.9 * bound);
  assert.ok((lin.bias as Tensor).toArray().every((v) => Math.abs(v) <= bound && v !== 0));
});

test('Embedding: lookup, int32 check and gradient w.r.t. weight (repeated ids accumulate)', () => {
  const emb = new Embedding(4, 2);
  assert.deepEqual(names(emb), ['weight[4,2]']);
  emb.weight.data.set([0, 1, 10, 11, 20, 21, 30, 31]);
  const idx = new Tensor(Int32Array.from([3, 0, 3, 1]), [2, 2]);
  const y = emb.forward(idx);
  assert.deepEqual(y.shape, [2, 2, 2]);
  assert.deepEqual(y.toArray(), [30, 31, 0, 1, 30, 31, 10, 11]);
  assert.throws(
    () => emb.forward(fromArray([1, 2])),
    /Embedding: expected int32 indices, got float32 \[2\]/,
  );
  check(
    ([w]) => {
      emb.weight = w as Tensor;
      return emb.forward(idx);
    },
    [rn([4, 2])],
  );
});

test('RMSNorm: ones init, value, affine off, gradients', () => {
  const n = new RMSNorm(4, 1e-6);
  assert.deepEqual(names(n), ['weight[4]']);
  assert.deepEqual((n.weight as Tensor).toArray(), [1, 1, 1, 1]);
  const y = n.forward(fromArray([1, -1, 1, -1, 2, 2, 2, 2], [2, 4]));
  for (const v of y.toArray()) assert.ok(Math.abs(Math.abs(v) - 1) < 1e-5);
  assert.deepEqual(names(new RMSNorm(4, 1e-6, { affine: false })), []);
  check(
    ([x, w]) => {
      n.weight = w as Tensor;
      return n.forward(x as Tensor);
    },
    [rn([2, 3, 4]), rn([4])],
  );
  const na = new RMSNorm(5, 1e-5, { affine: false });
  check(([x]) => na.forward(x as Tensor), [rn([3, 5])]);
});

test('LayerNorm: ones/zeros init, value, gradients', () => {
  const n = new LayerNorm(3, 1e-5);
  assert.deepEqual(names(n), ['weight[3]', 'bias[3]']);
  assert.deepEqual((n.bias as Tensor).toArray(), [0, 0, 0]);
  const y = n.forward(fromArray([1, 2, 3], [1, 3]));
  const s = Math.sqrt(2 / 3 + 1e-5);
  const want = [-1 / s, 0, 1 / s];
  y.toArray().forEach((v, i) => assert.ok(Math.abs(v - (want[i] as number)) < 1e-5));
  assert.deepEqual(names(new LayerNorm(3, 1e-5, { affine: false })), []);
  check(
    ([x, w, b]) => {
      n.weight = w as Tensor;
      n.bias = b as Tensor;
      return n.forward(x as Tensor);
    },
    [rn([2, 2, 3]), rn([3]), rn([3])],
  );
});

test('GroupNorm: validation, gradients over [N, C, H, W]', () => {
  assert.throws(
    () => new GroupNorm(3, 8, 1e-5),
    /GroupNorm: 8 channels cannot be split into 3 groups/,
  );
  const n = new GroupNorm(2, 4, 1e-5);
  assert.deepEqual(names(n), ['weight[4]', 'bias[4]']);
  // Each group of a constant-per-group input normalises to zero, then + bias.
  n.bias?.data.set([1, 2, 3, 4]);
  const y = n.forward(T.full([1, 4, 2, 2], 7));
  assert.deepEqual(y.toArray(), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4]);
  check(
    ([x, w, b]) => {
      n.weight = w as Tensor;
      n.bias = b as Tensor;
      return n.forward(x as Tensor);
    },
    [rn([2, 4, 2, 3]), rn([4]), rn([4])],
  );
});

test('Conv2d: names, value, stride/padding and gradients', () => {
  const c = new Conv2d(2, 3, 3, { stride: 2, padding: 1 });
  assert.deepEqual(names(c), ['weight[3,2,3,3]', 'bias[3]']);
  assert.deepEqual(names(new Conv2d(2, 3, 1, { bias: false })), ['weight[3,2,1,1]']);
  const one = new Conv2d(1, 1, 1);
  one.weight.data[0] = 2;
  (one.bias as Tensor).data[0] = 1;
  assert.deepEqual(one.forward(fromArray([1, 2, 3, 4], [1, 1, 2, 2])).toArray(), [3, 5, 7, 9]);
  assert.deepEqual(c.forward(T.zeros([1, 2, 5, 5])).shape, [1, 3, 3, 3]);
  check(
    ([x, w, b]) => {
      c.weight = w as Tensor;
      c.bias = b as Tensor;
      return c.forward(x as Tensor);
    },
    [rn([2, 2, 5, 4]), rn([3, 2, 3, 3]), rn([3])],
  );
});

test('Conv2d.resetParameters: bound 1/sqrt(cin·k·k)', () => {
  const c = new Conv2d(4, 8, 3).resetParameters(new Rng(5));
  const bound = 1 / 6;
  assert.ok(c.weight.toArray().every((v) => Math.abs(v) <= bound));
  assert.ok((c.bias as Tensor).toArray().every((v) => Math.abs(v) <= bound));
});

test('Dropout: identity in eval and at p = 0; mask from rng, scaled 1/(1-p), deterministic', () => {
  const x = T.full([4000], 1);
  const d = new Dropout(0.25);
  assert.equal(d.eval().forward(x, new Rng(1)), x);
  assert.equal(new Dropout(0).forward(x, new Rng(1)), x);
  d.train();
  const y = d.forward(x, new Rng(1));
  const vals = y.toArray();
  const zeroFrac = vals.filter((v) => v === 0).length / vals.length;
  assert.ok(Math.abs(zeroFrac - 0.25) < 0.03, `dropped fraction ${zeroFrac}`);
  assert.ok(vals.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
  assert.deepEqual(d.forward(x, new Rng(1)).toArray(), vals);
  assert.notDeepEqual(d.forward(x, new Rng(2)).toArray(), vals);
  assert.ok(
    new Dropout(1)
      .forward(x, new Rng(1))
      .toArray()
      .every((v) => v === 0),
  );
  assert.throws(() => new Dropout(1.5), /Dropout: p must be in \[0, 1\]/);
  // Gradient is the same mask.
  const xg = T.full([8], 1).requireGrad();
  const yg = new Dropout(0.5).forward(xg, new Rng(9));
  T.backward(T.sum(yg));
  assert.deepEqual(xg.grad?.toArray(), yg.toArray());
});
