// Forward values of ops against hand-computed results, and the wording of shape errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../index.js';

const t = (v: number[], s: number[]) => T.fromArray(v, s);
const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) => {
  assert.equal(a.length, b.length);
  for (let i = 0; i < b.length; i++) assert.ok(Math.abs((a[i] as number) - (b[i] as number)) <= tol, `index ${i}: ${a[i]} vs ${b[i]}`);
};

test('matmul and its transposed forms', () => {
  const a = t([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = t([1, 0, 0, 1, 1, 1], [3, 2]);
  close(T.matmul(a, b).data, [4, 5, 10, 11]);
  close(T.matmul(a, T.transpose(b, 0, 1), { transB: true }).data, [4, 5, 10, 11]);
  close(T.matmul(T.transpose(a, 0, 1), b, { transA: true }).data, [4, 5, 10, 11]);
  assert.throws(() => T.matmul(T.zeros([2, 64]), T.zeros([32, 4])), /matmul: inner dims 64 and 32 differ/);
});

test('broadcasting arithmetic and its errors', () => {
  close(T.add(t([1, 2, 3], [3]), t([10, 20], [2, 1])).data, [11, 12, 13, 21, 22, 23]);
  close(T.div(t([1, 2], [2]), 2).data, [0.5, 1]);
  assert.throws(() => T.add(T.zeros([3]), T.zeros([4])), /cannot be broadcast/);
});

test('reductions', () => {
  const x = t([1, 5, 3, 2, 8, 0], [2, 3]);
  close(T.sum(x, 1).data, [9, 10]);
  close(T.mean(x, 0).data, [1.5, 6.5, 1.5]);
  close(T.max(x, 1).data, [5, 8]);
  assert.deepEqual(T.argmax(x, 1).toArray(), [1, 1]);
  close(T.logsumexp(t([0, 0], [2]), 0).data, [Math.log(2)]);
  const all = T.mean(x, undefined, { keepDim: true });
  assert.deepEqual(all.shape, [1, 1]);
  close(all.data, [19 / 6]);
});

test('softmax, logSoftmax and crossEntropy with ignored rows', () => {
  close(T.softmax(t([0, Math.log(3)], [2])).data, [0.25, 0.75]);
  close(T.logSoftmax(t([0, 0], [2])).data, [-Math.log(2), -Math.log(2)]);
  const logits = t([0, 0, 0, 0], [2, 2]);
  const ce = T.crossEntropy(logits, new T.Tensor(Int32Array.from([1, -100]), [2]));
  close(ce.data, [Math.log(2)]);
});

test('norms', () => {
  const x = t([3, 4], [1, 2]);
  close(T.rmsNorm(x, null, 0).data, [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)]);
  close(T.layerNorm(x, null, null, 0).data, [-1, 1]);
  const g = T.groupNorm(t([1, 3, 5, 7], [1, 2, 2]), 1, null, null, 0);
  const sd = Math.sqrt(5);
  close(g.data, [-3 / sd, -1 / sd, 1 / sd, 3 / sd], 1e-6);
});

test('conv2d with padding and stride', () => {
  const x = t([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const w = t([1, 1, 1, 1], [1, 1, 2, 2]);
  close(T.conv2d(x, w, null).data, [12, 16, 24, 28]);
  close(T.conv2d(x, w, t([1], [1]), { stride: 2, padding: 1 }).data, [2, 6, 12, 29]);
});

test('resize modes follow F.interpolate(align_corners=False)', () => {
  const row = (v: number[]) => t(v, [1, 1, 1, v.length]);
  close(T.resize2d(row([0, 1]), 1, 4, 'bilinear').data, [0, 0.25, 0.75, 1]);
  close(T.resize2d(row([1, 2]), 1, 4, 'nearest').data, [1, 1, 2, 2]);
  close(T.resize2d(row([1, 2, 3, 4]), 1, 2, 'area').data, [1.5, 3.5]);
  close(T.resize2d(row([1, 2, 3, 4, 5]), 1, 2, 'area').data, [2, 4]);
  // bicubic, A = −0.75: at t = 0.75 the weights are (−0.03515625, 0.26171875, 0.87890625,
  // −0.10546875), computed by hand from the cubic-convolution kernel
  const up = T.resize2d(row([0, 1, 2, 3, 4, 5, 6, 7]), 1, 16, 'bicubic').data;
  close(Array.from(up).slice(4, 6), [1.703125, 2.296875], 1e-6);
});

test('sdpa: causal masking, GQA and a partially used KV cache', () => {
  const q = T.fromArray([1, 0, 0, 1], [1, 1, 2, 2]);
  const k = T.fromArray([1, 0, 0, 1, 9, 9], [1, 1, 3, 2]);
  const v = T.fromArray([1, 2, 3, 4, 99, 99], [1, 1, 3, 2]);
  const y = T.sdpa(q, k, v, { mask: { kind: 'causal', offset: 0 }, kvLength: 2 });
  // query 0 sees only key 0; query 1 sees keys 0, 1 with scores 0 and 1/sqrt(2)
  const w1 = Math.exp(1 / Math.sqrt(2)) / (1 + Math.exp(1 / Math.sqrt(2)));
  close(y.data, [1, 2, 1 + 2 * w1, 2 + 2 * w1], 1e-6);
  assert.throws(() => T.sdpa(T.zeros([1, 3, 1, 2]), T.zeros([1, 2, 1, 2]), T.zeros([1, 2, 1, 2])), /not a multiple/);
});

test('rope rotates pairs by the table angles', () => {
  const x = T.fromArray([1, 0, 0, 1], [1, 1, 1, 4]);
  const tab = T.fromArray([0, 1, 0, 0], [1, 2, 2]); // pair 0: 90°, pair 1: cos 0 sin 0 (zero row)
  close(T.rope(x, tab).data, [0, 1, 0, 0]);
});

test('views share storage; narrow of inner axes copies', () => {
  const x = T.arange(6, 'float32');
  const r = T.reshape(x, [2, 3]);
  assert.equal(r.data.buffer, x.data.buffer);
  const n0 = T.narrow(r, 0, 1, 1);
  assert.equal(n0.data.buffer, x.data.buffer);
  close(T.narrow(r, 1, 1, 2).data, [1, 2, 4, 5]);
  close(T.concat([r, r], 1).data, [0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5]);
  assert.throws(() => T.reshape(x, [4, 2]), /cannot view \[6\]/);
  assert.throws(() => T.indexSelect(r, 0, new T.Tensor(Int32Array.from([2]), [1])), /out of range/);
});

test('ts binary kernel follows the broadcast strides even when sizes agree', async () => {
  const { referenceBackend } = await import('../../backend/registry.js');
  const a = Float32Array.from([1, 2, 3, 4]);
  const b = Float32Array.from([0, 0, 0, 0]);
  const out = new Float32Array(4);
  // a read transposed: out[i, j] = a[j, i]
  referenceBackend().binary('add', a, b, out, { shape: [2, 2], aStrides: [1, 2], bStrides: [2, 1] });
  assert.deepEqual(Array.from(out), [1, 3, 2, 4]);
});
