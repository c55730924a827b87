// AdamW against values computed by hand with torch's update (2 steps), per-group settings,
// bit-identical resume from stateDict.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/rng.js';
import { Tensor, fromArray } from '../tensor/tensor.js';
import * as T from '../tensor/index.js';
import { AdamW, paramGroupsByDecay } from './adamw.js';
import { clipGradNorm } from './clip.js';
import { Embedding, LayerNorm, Linear } from './layers.js';
import { Module } from './module.js';

const f64 = (v: number[]) => fromArray(v, [v.length], 'float64').requireGrad();

// torch.optim.AdamW(lr=0.1, weight_decay=0.01) on p = [1, -2, 0.3] with gradients
// [0.5, -1, 0] then [0.1, 0.3, -2], evaluated with torch's formula in float64 (Python):
const AFTER_1 = [0.899000002, -1.898000001, 0.29969999999999997];
const AFTER_2 = [0.8177969063826517, -1.8533171424282264, 0.3738139818306455];

test('AdamW: two steps match the torch formula (float64 params)', () => {
  const p = f64([1, -2, 0.3]);
  const opt = new AdamW([p], { lr: 0.1, weightDecay: 0.01 });
  p.grad = fromArray([0.5, -1, 0], [3], 'float64');
  opt.step();
  // Step 1 by hand: p·(1 − lr·wd) − lr·g/(|g| + eps), e.g. 0.999 − 0.1·0.5/0.50000001.
  p.toArray().forEach((v, i) =>
    assert.ok(Math.abs(v - (AFTER_1[i] as number)) < 1e-15, `step 1 [${i}] ${v}`),
  );
  p.grad = fromArray([0.1, 0.3, -2], [3], 'float64');
  opt.step();
  p.toArray().forEach((v, i) =>
    assert.ok(Math.abs(v - (AFTER_2[i] as number)) < 1e-14, `step 2 [${i}] ${v}`),
  );
});

test('AdamW: float32 params agree with the float64 reference; no grad means no step', () => {
  const p = fromArray([1, -2, 0.3]).requireGrad();
  const idle = fromArray([5]).requireGrad();
  const opt = new AdamW([p, idle], { lr: 0.1, weightDecay: 0.01 });
  p.grad = fromArray([0.5, -1, 0]);
  opt.step();
  p.grad = fromArray([0.1, 0.3, -2]);
  opt.step();
  p.toArray().forEach((v, i) =>
    assert.ok(Math.abs(v - (AFTER_2[i] as number)) < 2e-7, `[${i}] ${v}`),
  );
  assert.deepEqual(idle.toArray(), [5]); // skipped: not even decayed, as torch
  assert.deepEqual(
    [...opt.stateDict().keys()],
    ['state.0.step', 'state.0.exp_avg', 'state.0.exp_avg_sq'],
  );
  assert.equal(opt.stateDict().get('state.0.step')?.item(), 2);
});

test('AdamW: per-group weight decay and lr; setLr; zeroGrad', () => {
  const a = f64([1]);
  const b = f64([1]);
  const opt = new AdamW(
    [
      { params: [a], weightDecay: 0.5 },
      { params: [b], weightDecay: 0, lr: 0.2 },
    ],
    { lr: 0.1 },
  );
  assert.equal(opt.groups[0]?.lr, 0.1);
  assert.equal(opt.groups[1]?.lr, 0.2);
  a.grad = fromArray([0], [1], 'float64');
  b.grad = fromArray([0], [1], 'float64');
  opt.step(); // zero gradient: only the decay acts
  assert.equal(a.item(), 1 - 0.1 * 0.5);
  assert.equal(b.item(), 1);
  opt.setLr(0.01);
  b.grad = fromArray([3], [1], 'float64');
  opt.step();
  // b at its 2nd step: m = 0.3, v = 0.009 → m̂ = 0.3/0.19, v̂ = 0.009/0.001999.
  const want = 1 - (0.01 * (0.3 / 0.19)) / (Math.sqrt(0.009) / Math.sqrt(1 - 0.999 ** 2) + 1e-8);
  assert.ok(Math.abs(b.item() - want) < 1e-15);
  opt.zeroGrad();
  assert.equal(a.grad, null);
  assert.equal(b.grad, null);
});

test('AdamW: rejects duplicate, int32 and invalid settings', () => {
  const p = f64([1]);
  assert.throws(
    () => new AdamW([{ params: [p] }, { params: [p], names: ['tied'] }], { lr: 1 }),
    /AdamW: tied appears more than once/,
  );
  assert.throws(
    () => new AdamW([new Tensor(Int32Array.of(1), [1])], { lr: 1 }),
    /AdamW: group 0 param 0 is int32/,
  );
  assert.throws(
    () => new AdamW([p], { lr: 1, betas: [1, 0.9] }),
    /AdamW: invalid settings in group 0/,
  );
});

class Tiny extends Module {
  wte = new Embedding(5, 4);
  ln = new LayerNorm(4, 1e-5);
  head = new Linear(4, 3);
}

test('paramGroupsByDecay: rank ≥ 2 decays (nanoGPT), the rest does not', () => {
  const groups = paramGroupsByDecay(new Tiny(), 0.1);
  assert.deepEqual(groups[0]?.names, ['wte.weight', 'head.weight']);
  assert.equal(groups[0]?.weightDecay, 0.1);
  assert.deepEqual(groups[1]?.names, ['ln.weight', 'ln.bias', 'head.bias']);
  assert.equal(groups[1]?.weightDecay, 0);
});

function trainSteps(model: Tiny, opt: AdamW, from: number, to: number): void {
  for (let s = from; s < to; s++) {
    const rng = new Rng(77, s); // the data of step s, whatever the run
    const idx = new Tensor(rng.randint(6, 5), [2, 3]);
    const y = new Tensor(rng.normal(18) as Float32Array, [2, 3, 3]);
    const loss = T.mean(
      T.square(T.sub(model.head.forward(model.ln.forward(model.wte.forward(idx))), y)),
    );
    opt.zeroGrad();
    T.backward(loss);
    clipGradNorm(opt.params, 0.5);
    opt.setLr(0.01 * (1 + s));
    opt.step();
  }
}

function fresh(): [Tiny, AdamW] {
  const m = new Tiny();
  m.wte.resetParameters(new Rng(1, 0));
  m.head.resetParameters(new Rng(1, 1));
  return [m, new AdamW(paramGroupsByDecay(m, 0.1), { lr: 0.01 })];
}

const copyMap = (sd: Map<string, Tensor>) =>
  new Map([...sd].map(([k, t]) => [k, new Tensor(t.data.slice(), t.shape)]));

test('AdamW: stateDict / loadStateDict resume is bit-identical', () => {
  const [m1, o1] = fresh();
  trainSteps(m1, o1, 0, 6);
  const [m2, o2] = fresh();
  trainSteps(m2, o2, 0, 3);
  const savedModel = copyMap(m2.stateDict());
  const savedOpt = o2.stateDict();
  trainSteps(m2, o2, 3, 4); // state moves on after saving: the saved copy must not
  const [m3, o3] = fresh();
  m3.loadStateDict(savedModel);
  o3.loadStateDict(savedOpt);
  trainSteps(m3, o3, 3, 6);
  for (const [name, t] of m1.stateDict()) {
    assert.deepEqual(m3.stateDict().get(name)?.data, t.data, `${name} differs after resume`);
  }
  assert.deepEqual(
    [...o3.stateDict()].map(([k, t]) => [k, t.data]),
    [...o1.stateDict()].map(([k, t]) => [k, t.data]),
  );
});

test('AdamW.loadStateDict lists every problem and changes nothing', () => {
  const [m, o] = fresh();
  trainSteps(m, o, 0, 1);
  const before = o.stateDict();
  const bad = new Map(before);
  bad.set('state.0.exp_avg', T.zeros([2, 2]));
  bad.delete('state.1.exp_avg_sq');
  bad.set('state.99.step', T.zeros([]));
  bad.set('momentum', T.zeros([]));
  assert.throws(
    () => o.loadStateDict(bad),
    (e: Error) =>
      /state\.0\.exp_avg expected float32 \[5, 4\] found float32 \[2, 2\]/.test(e.message) &&
      /state\.1 is incomplete/.test(e.message) &&
      /unexpected key state\.99\.step \(the optimizer has 5 parameters\)/.test(e.message) &&
      /unexpected key momentum/.test(e.message),
  );
  assert.deepEqual(
    [...o.stateDict()].map(([k, t]) => [k, t.data]),
    [...before].map(([k, t]) => [k, t.data]),
  );
});
