import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { initFromTeacher, initVarDDWeights } from './init.js';
import { VarDD } from './student.js';
import { smallConfig, smallTeacher } from './testing.js';

const C = 64;
const row = (t: T.Tensor, r: number) => [...t.data.slice(r * C, (r + 1) * C)];

test('initFromTeacher: the official teacher → student map, with the class_emb[1] quirk', () => {
  const teacher = smallTeacher();
  const student = initVarDDWeights(new VarDD(smallConfig()), new T.Rng(5));
  const lvl1Before = row(student.lvl_embed.weight, 1);
  const ndBefore = [...student.n_d_embed.weight.data];
  const lwBefore = [...(student.layerwise_n_d_embed?.[0]?.weight.data ?? [])];
  initFromTeacher(student, teacher, new T.Rng(6));
  const tsd = teacher.stateDict();
  for (const [name, p] of student.stateDict()) {
    if (/^(word_embed|blocks|head_nm|head)\.|^pos_start$/.test(name)) {
      assert.deepEqual([...p.data], [...(tsd.get(name) as T.Tensor).data], name);
    }
  }
  // class_emb copied except row 1 (re-drawn: the published bug).
  for (let r = 0; r <= 10; r++) {
    const same = row(student.class_emb.weight, r).every(
      (v, i) => v === row(teacher.class_emb.weight, r)[i],
    );
    assert.equal(same, r !== 1, `class_emb row ${r}`);
  }
  // lvl_embed: 0 ← 0, 2.. ← 1..; row 1 keeps its construction-time value.
  assert.deepEqual(row(student.lvl_embed.weight, 0), row(teacher.lvl_embed.weight, 0));
  for (let k = 1; k < 4; k++)
    assert.deepEqual(row(student.lvl_embed.weight, k + 1), row(teacher.lvl_embed.weight, k));
  assert.deepEqual(row(student.lvl_embed.weight, 1), lvl1Before);
  // pos_1LC: 0 ← 0, 2.. ← 1..; row 1 re-drawn with std 0.02 (torch's bounds ±2 are absolute).
  assert.deepEqual(row(student.pos_1LC, 0), row(teacher.pos_1LC, 0));
  for (let p = 1; p < 30; p++)
    assert.deepEqual(row(student.pos_1LC, p + 1), row(teacher.pos_1LC, p));
  const p1 = row(student.pos_1LC, 1);
  assert.ok(p1.some((v) => v !== 0) && p1.every((v) => Math.abs(v) <= 6 * 0.02));
  // n_d_embed re-drawn; layer-wise embeddings untouched.
  assert.notDeepEqual([...student.n_d_embed.weight.data], ndBefore);
  assert.deepEqual([...(student.layerwise_n_d_embed?.[0]?.weight.data ?? [])], lwBefore);
});

test('initVarDDWeights: AdaLN γ rows ×1e-5, head ×0.02, zero biases, scale_mul ln 4', () => {
  const m = initVarDDWeights(new VarDD(smallConfig()), new T.Rng(1));
  const std = Math.sqrt(1 / C / 3);
  const w = m.blocks[0]?.ada_lin?.[1].weight as T.Tensor;
  const maxAbs = (a: ArrayLike<number>, from: number, to: number) => {
    let x = 0;
    for (let i = from; i < to; i++) x = Math.max(x, Math.abs(a[i] as number));
    return x;
  };
  assert.ok(maxAbs(w.data, 0, 2 * C * C) <= 6 * std * 1e-5);
  assert.ok(maxAbs(w.data, 2 * C * C, 6 * C * C) > 1e-3);
  assert.ok(maxAbs(m.head.weight.data, 0, m.head.weight.size) <= 6 * std * 0.02);
  assert.equal(maxAbs(m.head.bias?.data ?? [], 0, 64), 0);
  assert.equal(maxAbs(m.blocks[1]?.attn.q_bias.data ?? [1], 0, C), 0);
  assert.ok(Math.abs((m.blocks[0]?.attn.scale_mul_1H11?.data[0] as number) - Math.log(4)) < 1e-6);
  assert.ok(maxAbs(m.final_layer_conti.scale_shift_table.data, 0, 2 * C) > 0);
});

test('initFromTeacher refuses a teacher of another size', () => {
  assert.throws(
    () => initFromTeacher(new VarDD(smallConfig()), smallTeacher(3, { depth: 3 }), new T.Rng(1)),
    /configurations differ/,
  );
});
