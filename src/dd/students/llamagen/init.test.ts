import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { gptConfig } from '../../../models/llamagen/config.js';
import { Transformer, randomizeGpt } from '../../../models/llamagen/gpt.js';
import { ddConfig } from './config.js';
import { DDTransformer } from './student.js';
import { initDDStudent, initFromTeacher } from './init.js';

const sizes = { dim: 32, n_head: 4, vocab_size: 24, block_size: 16, num_classes: 5 };

function std(t: T.Tensor): number {
  let s = 0;
  for (const v of t.data) s += v * v;
  return Math.sqrt(s / t.size);
}

test('initFromTeacher copies the class table, layers, norm and output; the student-only parts are fresh', () => {
  const teacher = randomizeGpt(
    new Transformer(gptConfig(null, { ...sizes, n_layer: 2 })),
    new T.Rng(1),
    0.1,
  );
  const student = new DDTransformer(ddConfig(null, { ...sizes, n_layer: 2, codebook_dim: 8 }));
  const r = initFromTeacher(student, teacher, new T.Rng(2));
  const s = student.stateDict();
  const t = teacher.stateDict();
  for (const [sn, tn] of r.copied)
    assert.deepEqual(
      Array.from((s.get(sn) as T.Tensor).data),
      Array.from((t.get(tn) as T.Tensor).data),
      sn,
    );
  assert.equal(r.copied.length, 1 + 2 * 7 + 2);
  assert.deepEqual([...r.fresh].sort(), [
    'final_layer_conti.linear.bias',
    'final_layer_conti.linear.weight',
    'final_layer_conti.scale_shift_table',
    'n_d_embed.weight',
    'tok_embeddings.bias',
    'tok_embeddings.weight',
  ]);
  assert.equal(student.freqsCis, teacher.freqsCis, 'the teacher RoPE table object is adopted');
  assert.ok(Math.abs(std(s.get('tok_embeddings.weight') as T.Tensor) - 0.02) < 0.01);
  assert.ok((s.get('tok_embeddings.bias') as T.Tensor).data.every((v) => v === 0));
  assert.ok(
    Math.abs(std(s.get('final_layer_conti.scale_shift_table') as T.Tensor) - 1 / Math.sqrt(32)) <
      0.08,
  );
});

test('initFromTeacher keeps the published quirks: layers zip by parameter order and stop at the shorter', () => {
  const teacher = randomizeGpt(
    new Transformer(gptConfig(null, { ...sizes, n_layer: 1 })),
    new T.Rng(3),
  );
  const student = new DDTransformer(ddConfig(null, { ...sizes, n_layer: 2, codebook_dim: 8 }));
  const r = initFromTeacher(student, teacher, new T.Rng(4));
  assert.ok(
    r.fresh.includes('layers.1.attention.wqkv.weight'),
    'the extra student layer stays fresh',
  );
  assert.ok(!r.fresh.includes('layers.0.attention.wqkv.weight'));
  assert.ok(Math.abs(std(student.layers[1]?.attention.wqkv.weight as T.Tensor) - 0.02) < 0.01);
  const noNull = new Transformer(gptConfig(null, { ...sizes, n_layer: 1, class_dropout_prob: 0 }));
  assert.throws(
    () =>
      initFromTeacher(
        new DDTransformer(ddConfig(null, { ...sizes, n_layer: 1 })),
        noNull,
        new T.Rng(5),
      ),
    /CFG null row/,
  );
  const wide = new Transformer(gptConfig(null, { ...sizes, dim: 64, n_layer: 1 }));
  assert.throws(
    () =>
      initFromTeacher(
        new DDTransformer(ddConfig(null, { ...sizes, n_layer: 1 })),
        wide,
        new T.Rng(5),
      ),
    /cannot take the teacher/,
  );
});

test('initDDStudent: the official fresh initialisation (output zero, norms one)', () => {
  const m = initDDStudent(
    new DDTransformer(ddConfig(null, { ...sizes, n_layer: 1 })),
    new T.Rng(6),
  );
  assert.ok(m.output.weight.data.every((v) => v === 0));
  assert.ok((m.norm.weight as T.Tensor).data.every((v) => v === 1));
  assert.ok(Math.abs(std(m.n_d_embed.weight) - 0.02) < 0.01);
});
