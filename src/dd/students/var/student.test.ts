import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { VAR } from '../../../models/var/var.js';
import { varConfigFromJson } from '../../../models/var/config.js';
import { SMALL_JSON, smallConfig, smallStudent } from './testing.js';
import { VarDD } from './student.js';

const B = 2;
const L = 30;
const Cv = 8;
const noise = (seed: number, b = B) => new T.Tensor(new T.Rng(seed).normal(b * L * Cv), [b, L, Cv]);
const labels = Int32Array.from([3, 7]);

test('state dict: the official DD_Model names and shapes (the var_dd fixture table)', () => {
  const m = new VarDD(smallConfig());
  const sd = m.stateDict();
  assert.equal(sd.size, 48);
  const shape = (k: string) => [...(sd.get(k) as T.Tensor).shape];
  assert.deepEqual(shape('pos_1LC'), [1, 31, 64]);
  assert.deepEqual(shape('lvl_1L'), [1, 31]);
  assert.deepEqual(shape('attn_bias_for_masking'), [1, 1, 31, 31]);
  assert.deepEqual(shape('lvl_embed.weight'), [5, 64]);
  assert.deepEqual(shape('n_d_embed.weight'), [2, 64]);
  assert.deepEqual(shape('layerwise_n_d_embed.2.weight'), [64, 64]);
  assert.deepEqual(shape('final_layer_conti.scale_shift_table'), [2, 64]);
  assert.deepEqual(shape('final_layer_conti.linear.weight'), [8, 64]);
  assert.deepEqual(shape('head.weight'), [64, 64]);
  assert.ok(!sd.has('layerwise_n_d_embed.3.weight'));
  // Extra parameters over the teacher: (d+1)(C²+C) + pos row + lvl row + n_d + table + linear.
  const teacher = new VAR(varConfigFromJson(SMALL_JSON));
  const C = 64;
  assert.equal(
    m.numParameters() - teacher.numParameters(),
    3 * (C * C + C) + C + C + 2 * C + 2 * C + (8 * C + 8),
  );
  assert.equal(new VarDD(smallConfig({ layerwise_n_d_embed: false })).stateDict().size, 42);
});

test('mask: a token depends on earlier levels and its own input only', () => {
  const m = smallStudent();
  const x = noise(5);
  const base = T.noGrad(() => m.forward(labels, x, 0));
  // Change token 7 (scale 2, tokens 5..13): tokens of scales ≤ 1 and its siblings are unchanged,
  // token 7 and later scales change.
  const x2 = new T.Tensor(x.data.slice(), x.shape);
  for (let c = 0; c < Cv; c++) x2.data[7 * Cv + c] = (x2.data[7 * Cv + c] as number) + 1;
  const out = T.noGrad(() => m.forward(labels, x2, 0));
  const rowDiff = (a: T.Tensor, b: T.Tensor, j: number, w: number) => {
    let d = 0;
    for (let i = j * w; i < (j + 1) * w; i++)
      d = Math.max(d, Math.abs((a.data[i] as number) - (b.data[i] as number)));
    return d;
  };
  for (let j = 0; j < 14; j++) {
    const d = rowDiff(out.conti, base.conti, j, Cv) + rowDiff(out.logits, base.logits, j, 64);
    if (j === 7) assert.ok(d > 1e-4, `token 7 must see its own input`);
    else assert.equal(d, 0, `token ${j} must not see token 7`);
  }
  for (let j = 14; j < L; j++)
    assert.ok(rowDiff(out.conti, base.conti, j, Cv) > 0, `token ${j} sees scale 2`);
  // Sample 1 is untouched by a change in sample 0.
  for (let j = L; j < 2 * L; j++) assert.equal(rowDiff(out.conti, base.conti, j, Cv), 0);
});

test('per-sample timesteps: a batch with t = [0, 2] equals two single-sample runs', () => {
  const m = smallStudent();
  const x = noise(6);
  const both = T.noGrad(() => m.forward(labels, x, Int32Array.from([0, 2])));
  for (const [b, t] of [0, 2].entries()) {
    const one = T.noGrad(() => m.forward(labels.subarray(b, b + 1), T.narrow(x, 0, b, 1), t));
    const a = both.logits.data.subarray(b * L * 64, (b + 1) * L * 64);
    let d = 0;
    a.forEach((v, i) => (d = Math.max(d, Math.abs(v - (one.logits.data[i] as number)))));
    assert.ok(d < 1e-5, `sample ${b}: ${d}`);
  }
  const t0 = T.noGrad(() => m.forward(labels, x, 0));
  assert.notDeepEqual(
    [...t0.logits.data.slice(L * 64, L * 64 + 64)],
    [...both.logits.data.slice(L * 64, L * 64 + 64)],
  );
});

test('flags: class slot and cum_t data tokens are data (1), the rest noise (0)', () => {
  const m = new VarDD(smallConfig());
  const f = m.flags(Int32Array.from([0, 2, 3]));
  const row = (b: number) => [...f.data.slice(b * 31, (b + 1) * 31)].lastIndexOf(1);
  assert.deepEqual([0, 1, 2].map(row), [0, 5, 14]);
});

test('errors name the problem: wrong x shape, timestep, label', () => {
  const m = new VarDD(smallConfig());
  assert.throws(() => m.forward(labels, noise(1, 1), 0), /expected x \[2, 30, 8\]/);
  assert.throws(() => m.forward(labels, noise(1), 4), /timestep 4 is outside \[0, 3\]/);
  assert.throws(
    () => m.forward(Int32Array.from([3, 11]), noise(1), 0),
    /label 11 is outside \[0, 10\]/,
  );
  assert.throws(() => m.forward(labels, noise(1), [0]), /1 timesteps given for a batch of 2/);
});

test('backward reaches every parameter (the student can be trained)', () => {
  const m = smallStudent();
  m.train();
  const out = m.forward(labels, noise(8), Int32Array.from([0, 1]));
  T.backward(T.add(T.sum(T.square(out.conti)), T.sum(out.logits)));
  const missing = m
    .namedParameters()
    .filter(([, p]) => !p.grad)
    .map(([n]) => n);
  assert.deepEqual(missing, []);
});
