// Finite-difference gradient checks (float64, ts backend) for every differentiable op.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradCheck, randn64 } from '../gradcheck.js';
import { Rng } from '../rng.js';
import { Tensor } from '../tensor.js';
import * as T from '../index.js';

const rng = new Rng(1234, 7);
const shapeRng = new Rng(99, 1);
const ri = (lo: number, hi: number): number => lo + (shapeRng.randint(1, hi - lo + 1)[0] as number);

interface Case {
  name: string;
  f: (xs: Tensor[]) => Tensor;
  inputs: () => Tensor[];
  tol?: number;
}

const pos = (s: number[]) => randn64(rng, s, [0.5, 2]);
const rn = (s: number[]) => randn64(rng, s);
const idx = (n: number, hi: number) => new Tensor(rng.randint(n, hi), [n]);

const a = ri(1, 4);
const selIdx = idx(7, 2);
const b = ri(2, 5);
const c = ri(1, 6);
const cases: Case[] = [
  ...(['neg', 'abs', 'exp', 'tanh', 'sigmoid', 'silu', 'gelu', 'gelu_tanh', 'square', 'sin', 'cos'] as const).map(
    (op): Case => ({ name: op, f: ([x]) => T.unary(op, x as Tensor), inputs: () => [rn([a, b, c])] }),
  ),
  ...(['log', 'sqrt', 'rsqrt', 'recip'] as const).map((op): Case => ({ name: op, f: ([x]) => T.unary(op, x as Tensor), inputs: () => [pos([a, c])] })),
  { name: 'add broadcast', f: ([x, y]) => T.add(x as Tensor, y as Tensor), inputs: () => [rn([a, b, c]), rn([b, 1])] },
  { name: 'sub broadcast', f: ([x, y]) => T.sub(x as Tensor, y as Tensor), inputs: () => [rn([c]), rn([a, b, c])] },
  { name: 'mul broadcast', f: ([x, y]) => T.mul(x as Tensor, y as Tensor), inputs: () => [rn([a, 1, c]), rn([b, 1])] },
  { name: 'div', f: ([x, y]) => T.div(x as Tensor, y as Tensor), inputs: () => [rn([a, c]), pos([a, c])] },
  { name: 'maximum', f: ([x, y]) => T.maximum(x as Tensor, y as Tensor), inputs: () => [rn([a, c]), rn([c])] },
  { name: 'minimum', f: ([x, y]) => T.minimum(x as Tensor, y as Tensor), inputs: () => [rn([a, c]), rn([a, c])] },
  { name: 'pow', f: ([x]) => T.pow(x as Tensor, 3), inputs: () => [rn([a, c])] },
  { name: 'where', f: ([x, y]) => T.where(T.compare('gt', x as Tensor, 0), x as Tensor, y as Tensor), inputs: () => [rn([a, c]), rn([c])] },
  { name: 'sum axis', f: ([x]) => T.sum(x as Tensor, 1), inputs: () => [rn([a, b, c])] },
  { name: 'sum all', f: ([x]) => T.sum(x as Tensor), inputs: () => [rn([a, b])] },
  { name: 'mean keepdim', f: ([x]) => T.mean(x as Tensor, -1, { keepDim: true }), inputs: () => [rn([a, b, c])] },
  { name: 'max', f: ([x]) => T.max(x as Tensor, 1), inputs: () => [rn([a, b, c])] },
  { name: 'min', f: ([x]) => T.min(x as Tensor, 0), inputs: () => [rn([b, c])] },
  { name: 'logsumexp', f: ([x]) => T.logsumexp(x as Tensor, -1), inputs: () => [rn([a, b, c])] },
  { name: 'matmul', f: ([x, y]) => T.matmul(x as Tensor, y as Tensor), inputs: () => [rn([a, b]), rn([b, c])] },
  { name: 'matmul transA', f: ([x, y]) => T.matmul(x as Tensor, y as Tensor, { transA: true }), inputs: () => [rn([b, a]), rn([b, c])] },
  { name: 'matmul transB', f: ([x, y]) => T.matmul(x as Tensor, y as Tensor, { transB: true }), inputs: () => [rn([a, b]), rn([c, b])] },
  { name: 'matmul transA transB', f: ([x, y]) => T.matmul(x as Tensor, y as Tensor, { transA: true, transB: true }), inputs: () => [rn([b, a]), rn([c, b])] },
  { name: 'bmm broadcast', f: ([x, y]) => T.matmul(x as Tensor, y as Tensor), inputs: () => [rn([2, a, b]), rn([b, c])] },
  { name: 'bmm batched', f: ([x, y]) => T.matmul(x as Tensor, y as Tensor, { transB: true }), inputs: () => [rn([2, 3, a, b]), rn([2, 3, c, b])] },
  { name: 'matvec', f: ([x, y]) => T.matmul(x as Tensor, y as Tensor), inputs: () => [rn([a, b]), rn([b])] },
  { name: 'softmax', f: ([x]) => T.softmax(x as Tensor), inputs: () => [rn([a, b, c])] },
  { name: 'logSoftmax', f: ([x]) => T.logSoftmax(x as Tensor), inputs: () => [rn([a, c + 1])] },
  {
    name: 'crossEntropy ignore',
    f: ([x]) => T.crossEntropy(x as Tensor, new Tensor(Int32Array.from([1, -100, 0, 2]), [4])),
    inputs: () => [rn([4, 3])],
  },
  { name: 'crossEntropy none', f: ([x]) => T.crossEntropy(x as Tensor, new Tensor(Int32Array.from([4, 0]), [2]), { reduction: 'none' }), inputs: () => [rn([2, 5])] },
  { name: 'indexSelect', f: ([x]) => T.indexSelect(x as Tensor, 1, selIdx), inputs: () => [rn([a, b, c])] },
  { name: 'embedding', f: ([w]) => T.embedding(w as Tensor, new Tensor(Int32Array.from([0, 2, 2, 1, 0, 2]), [2, 3])), inputs: () => [rn([3, c])] },
  { name: 'concat', f: ([x, y]) => T.concat([x as Tensor, y as Tensor, x as Tensor], 1), inputs: () => [rn([a, b, c]), rn([a, 2, c])] },
  { name: 'split', f: ([x]) => T.mul(T.split(x as Tensor, [1, b], 1)[1] as Tensor, 2), inputs: () => [rn([a, b + 1, c])] },
  { name: 'stack', f: ([x, y]) => T.stack([x as Tensor, y as Tensor], 1), inputs: () => [rn([a, c]), rn([a, c])] },
  { name: 'transpose', f: ([x]) => T.transpose(x as Tensor, 0, 2), inputs: () => [rn([a, b, c])] },
  { name: 'permute', f: ([x]) => T.permute(x as Tensor, [2, 0, 3, 1]), inputs: () => [rn([a, b, c, 2])] },
  { name: 'narrow inner', f: ([x]) => T.narrow(x as Tensor, 1, 1, b - 1), inputs: () => [rn([a, b, c])] },
  { name: 'expand', f: ([x]) => T.expand(x as Tensor, [a, b, c]), inputs: () => [rn([b, 1])] },
  { name: 'rmsNorm', f: ([x, w]) => T.rmsNorm(x as Tensor, w as Tensor, 1e-5), inputs: () => [rn([a, b, c + 1]), rn([c + 1])] },
  { name: 'rmsNorm no weight', f: ([x]) => T.rmsNorm(x as Tensor, null, 1e-6), inputs: () => [rn([a, c + 1])] },
  { name: 'layerNorm affine', f: ([x, w, bb]) => T.layerNorm(x as Tensor, w as Tensor, bb as Tensor, 1e-5), inputs: () => [rn([a, b, c + 1]), rn([c + 1]), rn([c + 1])] },
  { name: 'layerNorm plain', f: ([x]) => T.layerNorm(x as Tensor, null, null, 1e-6), inputs: () => [rn([a, c + 2])] },
  { name: 'groupNorm', f: ([x, w, bb]) => T.groupNorm(x as Tensor, 2, w as Tensor, bb as Tensor, 1e-6), inputs: () => [rn([a, 4, 3, 2]), rn([4]), rn([4])] },
  { name: 'conv2d', f: ([x, w, bb]) => T.conv2d(x as Tensor, w as Tensor, bb as Tensor, { padding: 1 }), inputs: () => [rn([a, 2, 5, 4]), rn([3, 2, 3, 3]), rn([3])] },
  { name: 'conv2d stride', f: ([x, w]) => T.conv2d(x as Tensor, w as Tensor, null, { stride: 2, padding: [0, 1] }), inputs: () => [rn([1, 3, 7, 6]), rn([2, 3, 3, 2])] },
  ...(['nearest', 'area', 'bilinear', 'bicubic'] as const).map(
    (m): Case => ({ name: `resize ${m}`, f: ([x]) => T.resize2d(x as Tensor, 5, 3, m), inputs: () => [rn([1, 2, 3, 7])] }),
  ),
  { name: 'sdpa', f: ([q, k, v]) => T.sdpa(q as Tensor, k as Tensor, v as Tensor), inputs: () => [rn([a, 2, 3, 4]), rn([a, 2, 5, 4]), rn([a, 2, 5, 3])] },
  { name: 'sdpa causal gqa', f: ([q, k, v]) => T.sdpa(q as Tensor, k as Tensor, v as Tensor, { mask: { kind: 'causal' } }), inputs: () => [rn([1, 4, 5, 4]), rn([1, 2, 5, 4]), rn([1, 2, 5, 4])] },
  {
    name: 'sdpa levels + bias',
    f: ([q, k, v, bb]) =>
      T.sdpa(q as Tensor, k as Tensor, v as Tensor, {
        mask: { kind: 'levels', qLevel: Int32Array.from([0, 1, 1, 2, 2]), kLevel: Int32Array.from([0, 1, 1, 2, 2]) },
        bias: bb as Tensor,
        scale: 0.7,
      }),
    inputs: () => [rn([2, 2, 5, 3]), rn([2, 2, 5, 3]), rn([2, 2, 5, 3]), rn([2, 1, 5, 5])],
  },
  {
    name: 'rope',
    f: ([x]) => T.rope(x as Tensor, ropeTable),
    inputs: () => [rn([2, 3, 2, 6])],
  },
  { name: 'reshape chain', f: ([x]) => T.reshape(T.mul(x as Tensor, x as Tensor), [-1]), inputs: () => [rn([a, b])] },
];

const ropeTable = (() => {
  const t = new Float64Array(3 * 3 * 2);
  for (let i = 0; i < 9; i++) {
    t[2 * i] = Math.cos(0.3 * i + 0.1);
    t[2 * i + 1] = Math.sin(0.3 * i + 0.1);
  }
  return new Tensor(t, [3, 3, 2]);
})();

for (const cs of cases) {
  test(`gradcheck ${cs.name}`, () => {
    const r = gradCheck(cs.f, cs.inputs(), rng);
    assert.ok(r.maxError < (cs.tol ?? 1e-6), `${cs.name}: max error ${r.maxError} at input ${r.input}[${r.index}] (analytic ${r.analytic}, numeric ${r.numeric})`);
  });
}

test('gradients accumulate across backward calls and through reused inputs', () => {
  const x = new Tensor(Float64Array.from([1, 2, 3]), [3]).requireGrad();
  T.backward(T.sum(T.add(x, x)));
  assert.deepEqual(x.grad?.toArray(), [2, 2, 2]);
  T.backward(T.sum(T.mul(x, x)));
  assert.deepEqual(x.grad?.toArray(), [4, 6, 8]);
});

test('noGrad records nothing', () => {
  const x = new Tensor(Float64Array.from([1, 2]), [2]).requireGrad();
  const y = T.noGrad(() => T.exp(x));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
});

test('the graph is released after backward', () => {
  const x = new Tensor(Float64Array.from([1, 2]), [2]).requireGrad();
  const y = T.sum(T.exp(x));
  T.backward(y);
  assert.equal(y.node, null);
  const g = x.grad?.toArray();
  T.backward(y); // y is now a leaf: x's gradient must not change
  assert.deepEqual(x.grad?.toArray(), g);
});
