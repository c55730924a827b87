import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { ddConfig, ddConfigFromJson } from './config.js';
import { DDTransformer, noiseDataFlags, randomizeDD } from './student.js';

const small = ddConfig(null, {
  dim: 32,
  n_layer: 2,
  n_head: 4,
  n_kv_head: 2,
  vocab_size: 24,
  block_size: 16,
  num_classes: 5,
  codebook_dim: 4,
});

function input(B: number, seed: number): T.Tensor {
  return new T.Tensor(new T.Rng(seed).normal(B * 16 * 4) as Float32Array, [B, 16, 4]);
}

test('GPT-B / GPT-L students: official names, shapes and the published parameter counts', () => {
  const b = new DDTransformer(ddConfig('GPT-B'));
  assert.equal(b.numParameters(), 98_321_672);
  const sd = b.stateDict();
  const shapes: Record<string, number[]> = {
    'cls_embedding.embedding_table.weight': [1001, 768],
    'tok_embeddings.weight': [768, 8],
    'tok_embeddings.bias': [768],
    'layers.11.attention.wqkv.weight': [2304, 768],
    'layers.0.feed_forward.w2.weight': [768, 2048],
    'norm.weight': [768],
    'output.weight': [16384, 768],
    'final_layer_conti.scale_shift_table': [2, 768],
    'final_layer_conti.linear.weight': [8, 768],
    'final_layer_conti.linear.bias': [8],
    'n_d_embed.weight': [2, 768],
  };
  for (const [k, s] of Object.entries(shapes)) assert.deepEqual(sd.get(k)?.shape, s, k);
  assert.equal(sd.size, 9 + 12 * 7);
  assert.equal(new DDTransformer(ddConfig('GPT-L')).numParameters(), 326_155_272);
});

test('config: from fixture-style JSON; text-conditional and multi-token conditions are refused', () => {
  const c = ddConfigFromJson({
    dim: 64,
    n_layer: 2,
    n_head: 4,
    vocab_size: 64,
    block_size: 16,
    num_classes: 10,
    codebook_dim: 8,
    timesteps: [0],
  });
  assert.equal(c.codebook_dim, 8);
  assert.equal(c.block_size, 16);
  assert.throws(() => ddConfig(null, { model_type: 't2i' }), /class-conditional/);
  assert.throws(() => ddConfig(null, { cls_token_num: 2 }), /one condition token/);
  assert.throws(() => ddConfig('GPT-Q'), /unknown preset/);
});

test('noise/data flags: position p is data iff p ≤ t (class token always data)', () => {
  const f = noiseDataFlags(Float64Array.from([0, 3, 2.5, 4]), 4);
  assert.deepEqual(
    Array.from(f.data),
    [1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1],
  );
});

test('forward: causal (row j sees x_0..x_j), t changes every row, logitsRange is a slice', () => {
  const m = randomizeDD(new DDTransformer(small), new T.Rng(1), 0.1);
  const labels = new T.Tensor(Int32Array.from([0, 4]), [2]);
  const x = input(2, 2);
  T.noGrad(() => {
    const a = m.forward(x, labels, 3);
    assert.deepEqual(a.tokens.shape, [2, 16, 4]);
    assert.deepEqual(a.logits.shape, [2, 16, 24]);
    const x2 = new T.Tensor((x.data as Float32Array).slice(), x.shape);
    x2.data[(0 * 16 + 9) * 4 + 1] = 5; // sample 0, token 9
    const b = m.forward(x2, labels, 3);
    for (let j = 0; j < 16; j++) {
      const rowEq = (p: T.Tensor, q: T.Tensor, w: number, r: number) => {
        for (let i = 0; i < w; i++) if (p.data[r * w + i] !== q.data[r * w + i]) return false;
        return true;
      };
      assert.equal(rowEq(a.logits, b.logits, 24, j), j < 9, `sample 0 row ${j}`);
      assert.ok(rowEq(a.tokens, b.tokens, 4, 16 + j), `sample 1 row ${j} is untouched`);
    }
    const c = m.forward(x, labels, [3, 4]);
    for (let j = 0; j < 16 * 24; j++) assert.equal(c.logits.data[j], a.logits.data[j]);
    let d = 0;
    for (let j = 16 * 24; j < 32 * 24; j++)
      d = Math.max(d, Math.abs((c.logits.data[j] as number) - (a.logits.data[j] as number)));
    assert.ok(d > 1e-4, 'the flag of token 3 of sample 1 changed its outputs');
    const part = m.forward(x, labels, 3, { logitsRange: [3, 7] });
    assert.deepEqual(part.logits.shape, [2, 4, 24]);
    for (let b2 = 0; b2 < 2; b2++)
      for (let j = 0; j < 4; j++)
        for (let v = 0; v < 24; v++)
          assert.ok(
            Math.abs(
              (part.logits.data[(b2 * 4 + j) * 24 + v] as number) -
                (a.logits.data[(b2 * 16 + j + 3) * 24 + v] as number),
            ) < 1e-5,
          );
    assert.deepEqual(m.forward(x, labels, 3, { logitsRange: [5, 5] }).logits.shape, [2, 0, 24]);
  });
  assert.throws(() => m.forward(input(2, 1), labels, [1, 2, 3]), /3 timesteps/);
  assert.throws(
    () => m.forward(new T.Tensor(new Float32Array(2 * 15 * 4), [2, 15, 4]), labels, 0),
    /\[B, 16, 4\]/,
  );
  assert.throws(() => m.forward(x, labels, 0, { logitsRange: [4, 17] }), /logitsRange/);
});

test('forward is differentiable: the student-only parameters get gradients', () => {
  const m = randomizeDD(new DDTransformer(small), new T.Rng(4));
  const out = m.forward(input(1, 5), new T.Tensor(Int32Array.from([2]), [1]), 6);
  T.backward(T.add(T.sum(T.square(out.tokens)), T.sum(out.logits)));
  for (const name of [
    'n_d_embed.weight',
    'final_layer_conti.scale_shift_table',
    'tok_embeddings.bias',
    'layers.0.attention.wqkv.weight',
  ]) {
    const p = m.stateDict().get(name) as T.Tensor;
    assert.ok(p.grad && p.grad.data.some((v) => v !== 0), `${name} has a gradient`);
  }
});
