// EMA: the averaging rule with and without warm-up, copyTo, buffers, state round trip, errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, zeros } from '../tensor/tensor.js';
import { EMA } from './ema.js';
import { Linear } from './layers.js';
import { Module, buffer } from './module.js';

class Net extends Module {
  fc = new Linear(2, 1);
  count = buffer(zeros([1], 'int32'));
}

const w = (m: Net) => m.fc.weight.toArray();

test('EMA: shadow = d·shadow + (1 − d)·param; copyTo writes it back', () => {
  const net = new Net();
  net.fc.weight.data.set([1, 2]);
  const ema = new EMA(net, 0.9);
  net.fc.weight.data.set([11, 22]);
  net.count.data[0] = 5;
  ema.update(net);
  net.fc.weight.data.set([0, 0]);
  ema.update(net);
  // step 1: 0.9·1 + 0.1·11 = 2,  0.9·2 + 0.1·22 = 4;  step 2: 0.9·2 = 1.8, 0.9·4 = 3.6
  const avg = ema.stateDict();
  const aw = (avg.get('fc.weight') as Tensor).toArray();
  assert.ok(Math.abs((aw[0] as number) - 1.8) < 1e-6 && Math.abs((aw[1] as number) - 3.6) < 1e-6);
  assert.deepEqual((avg.get('count') as Tensor).toArray(), [5]); // integer buffers are copied
  assert.equal(ema.numUpdates, 2);
  ema.copyTo(net);
  assert.deepEqual(w(net), aw);
  assert.deepEqual(net.count.toArray(), [5]);
  // The state dict holds copies.
  (avg.get('fc.weight') as Tensor).data.fill(-1);
  assert.deepEqual((ema.stateDict().get('fc.weight') as Tensor).toArray(), aw);
});

test('EMA warm-up: decay min(decay, (1 + n)/(10 + n))', () => {
  const net = new Net();
  const ema = new EMA(net, 0.999, { warmup: true });
  assert.equal(ema.currentDecay(), 0.1);
  net.fc.weight.data.set([10, 10]);
  ema.update(net); // 0.1·0 + 0.9·10 = 9
  assert.ok(Math.abs((ema.stateDict().get('fc.weight')?.data[0] as number) - 9) < 1e-6);
  assert.equal(ema.currentDecay(), 2 / 11);
  ema.numUpdates = 100000;
  assert.equal(ema.currentDecay(), 0.999);
  assert.equal(new EMA(net, 0.5).currentDecay(), 0.5);
  assert.throws(() => new EMA(net, 1.5), /EMA: decay must be in \[0, 1\]/);
});

test('EMA: stateDict loads into the model; loadStateDict round trip and errors', () => {
  const net = new Net();
  net.fc.weight.data.set([3, 4]);
  const ema = new EMA(net, 0.5);
  const other = new Net();
  other.loadStateDict(ema.stateDict()); // same names as the model
  assert.deepEqual(w(other), [3, 4]);
  const ema2 = new EMA(new Net(), 0.5);
  ema2.loadStateDict(ema.stateDict(), 7);
  assert.equal(ema2.numUpdates, 7);
  assert.deepEqual(ema2.stateDict().get('fc.weight')?.toArray(), [3, 4]);
  const bad = ema.stateDict();
  bad.delete('fc.bias');
  bad.set('fc.weight', zeros([3]));
  bad.set('extra', zeros([1]));
  assert.throws(
    () => ema2.loadStateDict(bad),
    /EMA.loadStateDict: missing keys: fc.bias; unexpected keys: extra; mis-shaped keys: fc.weight expected \[1, 2\] found \[3\]/,
  );
  class Other extends Module {
    fc = new Linear(3, 1);
  }
  assert.throws(
    () => ema.update(new Other()),
    /EMA.update: the module does not match the EMA: missing keys: count; mis-shaped keys: fc.weight/,
  );
});
