// Module: state-dict names of nested modules and module arrays, buffers, tied weights, train/eval,
// and strict loading that lists every missing, unexpected and mis-shaped key.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, fromArray, zeros } from '../tensor/tensor.js';
import { Dropout, Embedding, Linear, RMSNorm } from './layers.js';
import { Module, buffer, describeLoadReport } from './module.js';

class Attention extends Module {
  wqkv = new Linear(4, 12, { bias: false });
  wo = new Linear(4, 4, { bias: false });
}

class Block extends Module {
  attention = new Attention();
  attention_norm = new RMSNorm(4, 1e-5);
  drop = new Dropout(0.1);
}

class Net extends Module {
  tok_embeddings = new Embedding(10, 4);
  layers = [new Block(), new Block()];
  freqs = zeros([3]); // runtime table: not saved
  usage = buffer(zeros([10]));
  output = new Linear(4, 10);
  empty: Module[] = [];
}

const NAMES = [
  'tok_embeddings.weight',
  'layers.0.attention.wqkv.weight',
  'layers.0.attention.wo.weight',
  'layers.0.attention_norm.weight',
  'layers.1.attention.wqkv.weight',
  'layers.1.attention.wo.weight',
  'layers.1.attention_norm.weight',
  'usage',
  'output.weight',
  'output.bias',
];

test('stateDict names follow properties, nesting and array indices; buffers saved, plain tensors not', () => {
  const net = new Net();
  assert.deepEqual([...net.stateDict().keys()], NAMES);
  assert.deepEqual(
    net.namedParameters().map(([n]) => n),
    NAMES.filter((n) => n !== 'usage'),
  );
  assert.equal(net.numParameters(), 40 + 2 * (48 + 16 + 4) + 40 + 10);
  assert.equal(net.stateDict().get('output.bias'), net.output.bias); // the tensors themselves
  assert.ok(net.parameters().every((p) => p.requiresGrad));
  assert.equal(net.usage.requiresGrad, false);
});

test('tied weights: one parameter, two state-dict names', () => {
  const net = new Net();
  net.output.weight = net.tok_embeddings.weight;
  assert.equal(net.stateDict().size, NAMES.length);
  const params = net.namedParameters().map(([n]) => n);
  assert.ok(params.includes('tok_embeddings.weight') && !params.includes('output.weight'));
  assert.equal(new Set(net.parameters()).size, net.parameters().length);
});

test('train/eval reach every descendant, arrays included', () => {
  const net = new Net().eval();
  assert.ok(net.modules().every((m) => !m.training));
  assert.equal(net.layers[1]?.drop.training, false);
  net.train();
  assert.ok(net.modules().every((m) => m.training));
  assert.equal(net.modules().length, 1 + 1 + 2 * 6 + 1);
});

test('loadStateDict copies by name and casts float data', () => {
  const src = new Net();
  src.stateDict().forEach((t, name) => t.data.fill(name.length));
  const sd = new Map(
    [...src.stateDict()].map(([k, t]) => [k, new Tensor(Float64Array.from(t.data), t.shape)]),
  );
  const dst = new Net();
  const report = dst.loadStateDict(sd);
  assert.deepEqual(report, { missing: [], unexpected: [], mismatched: [] });
  for (const [name, t] of dst.stateDict()) {
    assert.equal(t.dtype, 'float32');
    assert.ok(
      t.data.every((v) => v === name.length),
      name,
    );
  }
});

test('strict loadStateDict lists every missing, unexpected and mis-shaped key and changes nothing', () => {
  const net = new Net();
  const sd = new Map(new Net().stateDict());
  sd.delete('layers.1.attention.wo.weight');
  sd.delete('output.bias');
  sd.set('layers.2.attention.wo.weight', zeros([4, 4]));
  sd.set('output.weight', fromArray(new Array<number>(44).fill(1), [11, 4]));
  assert.throws(
    () => net.loadStateDict(sd),
    (e: Error) =>
      e.message.startsWith('Net: the checkpoint does not match the model') &&
      e.message.includes('missing keys (2): layers.1.attention.wo.weight, output.bias') &&
      e.message.includes('unexpected keys (1): layers.2.attention.wo.weight') &&
      e.message.includes('mis-shaped keys (1): output.weight expected [10, 4] found [11, 4]') &&
      e.message.includes('HINT'),
  );
  assert.ok(net.output.weight.data.every((v) => v === 0));
  // Non-strict: loads what matches, reports the rest.
  const r = net.loadStateDict(sd, { strict: false });
  assert.deepEqual(r.missing, ['layers.1.attention.wo.weight', 'output.bias']);
  assert.deepEqual(r.unexpected, ['layers.2.attention.wo.weight']);
  assert.deepEqual(r.mismatched, [{ name: 'output.weight', expected: [10, 4], found: [11, 4] }]);
  assert.ok(net.output.weight.data.every((v) => v === 0));
  assert.ok(describeLoadReport('X', r).includes('missing keys (2)'));
});

test('zeroGrad clears every gradient', () => {
  const net = new Net();
  for (const p of net.parameters()) p.grad = zeros(p.shape);
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
});
