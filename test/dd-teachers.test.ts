// The flow-teacher adapters hand the flow map exactly the teacher's sampling distribution:
// tokens from the KV-cached generation loop equal tokens recomputed position by position from
// the teacher-forcing logits (CFG, top-k/top-p, softmax, flow map with the same noise).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFixturesDir } from '../src/io/testing.js';
import { gptConfigFromJson, vqConfigFromJson } from '../src/models/llamagen/config.js';
import { Transformer } from '../src/models/llamagen/gpt.js';
import { loadGptWeights, loadVqWeights, readStateDict } from '../src/models/llamagen/load.js';
import { VQModel } from '../src/models/llamagen/vq.js';
import { varConfigFromJson, vqvaeConfigFromJson } from '../src/models/var/config.js';
import { loadVar, loadVqvae } from '../src/models/var/load.js';
import { cfgMix, filteredProbs } from '../src/sampling/index.js';
import { DEFAULT_FLOW, flowMap } from '../src/dd/flow.js';
import { sequenceFlowMap } from '../src/dd/teacher.js';
import { llamagenFlowTeacher, varFlowTeacher } from '../src/dd/teachers.js';
import * as T from '../src/tensor/index.js';

const fixtures = findFixturesDir();
const json = (dir: string) => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;

test('LlamaGen adapter: generation with the flow map equals position-by-position recomputation', { skip: !fixtures }, () => {
  const g = join(fixtures as string, 'llamagen_gpt');
  const v = join(fixtures as string, 'llamagen_vq');
  const gpt = new Transformer(gptConfigFromJson(json(g)));
  loadGptWeights(gpt, readStateDict(join(g, 'weights.safetensors')));
  const vq = new VQModel(vqConfigFromJson(json(v)));
  loadVqWeights(vq, readStateDict(join(v, 'weights.safetensors')));
  const settings = { cfgScale: 2, cfgInterval: -1, temperature: 1, topK: 20, topP: 0.9 };
  const teacher = llamagenFlowTeacher('fixture', gpt, vq, settings);
  const B = 3;
  const { seqLen: L, codeDim: d, vocab: V } = teacher;
  const classes = Int32Array.from([1, 7, 3]);
  const noise = new T.Rng(9).normal(B * L * d) as Float32Array;
  const tokens = sequenceFlowMap(teacher, classes, noise, DEFAULT_FLOW);
  assert.equal(tokens.length, B * L);
  // Teacher forcing on [class, tokens 0..L−2] for the class and for the null class.
  const idx = new Int32Array(B * (L - 1));
  for (let b = 0; b < B; b++) idx.set(tokens.subarray(b * L, b * L + L - 1), b * (L - 1));
  const logits = (labels: Int32Array) =>
    T.noGrad(() => gpt.forward(new T.Tensor(idx, [B, L - 1]), new T.Tensor(labels, [B]))).data as Float32Array; // [B, L, V]
  const lc = logits(classes);
  const lu = logits(new Int32Array(B).fill(gpt.config.num_classes));
  const mixed = cfgMix(lc, lu, 2);
  const probs = filteredProbs(mixed, B * L, V, { ...settings, rule: 'llamagen' });
  const again = flowMap(probs, teacher.codebook, noise, V, d, DEFAULT_FLOW).tokens;
  assert.deepEqual(Array.from(again), Array.from(tokens));
  // Deterministic; a different noise gives different tokens.
  assert.deepEqual(sequenceFlowMap(teacher, classes, noise, DEFAULT_FLOW), tokens);
  const other = new T.Rng(10).normal(B * L * d) as Float32Array;
  assert.notDeepEqual(Array.from(sequenceFlowMap(teacher, classes, other, DEFAULT_FLOW)), Array.from(tokens));
});

test('VAR adapter: each token of a scale is mapped from its own ε with the scale-dependent CFG', { skip: !fixtures }, () => {
  const t = join(fixtures as string, 'var_teacher');
  const vdir = join(fixtures as string, 'var_vqvae');
  const { model } = loadVar(join(t, 'weights.safetensors'), varConfigFromJson(json(t)));
  const { model: vae } = loadVqvae(join(vdir, 'weights.safetensors'), vqvaeConfigFromJson(json(vdir)));
  const settings = { cfg: 2.0, topK: 30, topP: 0 };
  const teacher = varFlowTeacher('fixture', model, vae, settings);
  const B = 2;
  const { seqLen: L, codeDim: d, vocab: V } = teacher;
  const classes = Int32Array.from([4, 0]);
  const noise = new T.Rng(3).normal(B * L * d) as Float32Array;
  const tokens = sequenceFlowMap(teacher, classes, noise, DEFAULT_FLOW);
  const { cum, SN, patchNums } = model.sched;
  const idxBl = patchNums.map((pn, k) => {
    const out = new Int32Array(B * pn * pn);
    for (let b = 0; b < B; b++) out.set(tokens.subarray(b * L + cum[k]!, b * L + cum[k]! + pn * pn), b * pn * pn);
    return out;
  });
  const x = vae.quantize.idxBlToVarInput(idxBl, B);
  const lc = T.noGrad(() => model.forward(classes, x)).data as Float32Array; // [B, L, V]
  const lu = T.noGrad(() => model.forward(new Int32Array(B).fill(model.config.num_classes), x)).data as Float32Array;
  for (let k = 0; k < SN; k++) {
    const n = patchNums[k]! ** 2;
    const w = (settings.cfg * k) / (SN - 1);
    const rows = new Float32Array(B * n * V);
    const rowsU = new Float32Array(B * n * V);
    const eps = new Float32Array(B * n * d);
    for (let b = 0; b < B; b++) {
      rows.set(lc.subarray((b * L + cum[k]!) * V, (b * L + cum[k]! + n) * V), b * n * V);
      rowsU.set(lu.subarray((b * L + cum[k]!) * V, (b * L + cum[k]! + n) * V), b * n * V);
      eps.set(noise.subarray((b * L + cum[k]!) * d, (b * L + cum[k]! + n) * d), b * n * d);
    }
    const probs = filteredProbs(cfgMix(rows, rowsU, 1 + w), B * n, V, { ...settings, rule: 'var' });
    const got = flowMap(probs, teacher.codebook, eps, V, d, DEFAULT_FLOW).tokens;
    assert.deepEqual(Array.from(got), Array.from(idxBl[k]!), `scale ${k}`);
  }
});
