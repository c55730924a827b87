import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { gptConfig } from '../../../models/llamagen/config.js';
import { Transformer, randomizeGpt } from '../../../models/llamagen/gpt.js';
import { ddConfig } from './config.js';
import { DDTransformer, randomizeDD } from './student.js';
import { finalPredict, getFinalX, nearestCodebook, perturbData } from './predict.js';
import {
  ddStep,
  sampleFewStep,
  sampleWithTeacher,
  type StepTrace,
} from './sample.js';
import { batchNoise, teacherRng, sampleNoise } from '../../noise.js';

const L = 16;
const c = 4;
const V = 24;
const sizes = { dim: 32, n_head: 4, n_layer: 2, vocab_size: V, block_size: L, num_classes: 5 };
const model = randomizeDD(
  new DDTransformer(ddConfig(null, { ...sizes, codebook_dim: c })),
  new T.Rng(1),
  0.1,
);
const cbd = (() => {
  const x = new T.Rng(2).normal(V * c) as Float32Array;
  for (let k = 0; k < V; k++) {
    const n = Math.hypot(...x.subarray(k * c, (k + 1) * c));
    for (let j = 0; j < c; j++) x[k * c + j] = (x[k * c + j] as number) / n;
  }
  return x;
})();
const codebook = new T.Tensor(cbd, [V, c]);
const labels = Int32Array.from([0, 3, 4]);
const labelsT = new T.Tensor(labels, [3]);

test('ddNoise: sample i is the first L·c normals of Rng(seed, 2i), as the dataset generator draws it', () => {
  const n = batchNoise(5, 3, L * c, 10);
  for (let b = 0; b < 3; b++)
    assert.deepEqual(
      Array.from(n.subarray(b * L * c, (b + 1) * L * c)),
      Array.from(sampleNoise(5, 10 + b, L * c)),
    );
  assert.deepEqual(
    Array.from(batchNoise(5, 1, L * c, 11)),
    Array.from(n.subarray(L * c, 2 * L * c)),
    'independent of batching',
  );
  assert.equal(teacherRng(5, 10).stream, 21);
});

test('ddStep equals the official final_predict + get_final_x_BLC for every t / split_t order', () => {
  const B = 3;
  const x = new T.Rng(3).normal(B * L * c) as Float32Array;
  const noise = new T.Rng(4).normal(B * L * c) as Float32Array;
  for (const [t, split] of [
    [0, 6],
    [5, 6],
    [6, 6],
    [9, 6],
    [16, 6],
    [4, 0],
    [3, 40],
    [0, 16],
  ] as const) {
    const fast = ddStep(model, x, noise, labels, t, split, codebook);
    const xT = perturbData(x, noise, t, B, L, c);
    const fp = T.noGrad(() =>
      finalPredict(model, new T.Tensor(xT, [B, L, c]), labelsT, t, nearestCodebook(xT, cbd, c)),
    );
    const ref = getFinalX(fp, split, codebook).data;
    assert.deepEqual(Array.from(fast.xT), Array.from(xT));
    let d = 0;
    for (let i = 0; i < ref.length; i++)
      d = Math.max(d, Math.abs((fast.x[i] as number) - (ref[i] as number)));
    assert.ok(d < 1e-5, `t ${t} split ${split}: max diff ${d}`);
  }
  assert.throws(() => ddStep(model, x, noise, labels, 17, 6, codebook), /\[0, 16\]/);
  assert.throws(() => ddStep(model, x, noise, labels, 2.5, 6, codebook), /integer/);
});

test('sampleFewStep: deterministic, re-uses the original noise, validates t_list', () => {
  const noise = batchNoise(0, 3, L * c);
  const tr: StepTrace[] = [];
  const a = sampleFewStep(model, labels, {
    tList: [0, 5, 9],
    splitT: 7,
    noise,
    codebook,
    onStep: (s) => tr.push(s),
  });
  const b = sampleFewStep(model, labelsT, { tList: [0, 5, 9], splitT: 7, noise, codebook });
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  assert.equal(tr.length, 3);
  for (const s of tr) {
    for (let i = 0; i < 3 * L * c; i++)
      if (Math.floor(i / c) % L >= s.t) assert.equal(s.xT[i], noise[i]);
  }
  assert.throws(
    () => sampleFewStep(model, labels, { tList: [0, 5, 5], splitT: 7, noise, codebook }),
    /ascending/,
  );
  assert.throws(
    () => sampleFewStep(model, labels, { tList: [], splitT: 7, noise, codebook }),
    /empty/,
  );
  assert.throws(
    () =>
      sampleFewStep(model, labels, { tList: [0], splitT: 7, noise: noise.subarray(1), codebook }),
    /noise must be/,
  );
});

const teacher = randomizeGpt(new Transformer(gptConfig(null, sizes)), new T.Rng(5));

test('sampleWithTeacher: DD draft → teacher continues the re-quantised prefix → final DD step', () => {
  const noise = batchNoise(1, 3, L * c);
  const forced = (_logits: Float32Array, step: number) =>
    Int32Array.from([0, 1, 2], (b) => (step * 5 + b * 7) % V);
  for (const [P, t1, split] of [
    [4, 10, 12],
    [0, 6, 8],
    [3, 16, 5],
  ] as const) {
    const steps: StepTrace[] = [];
    let teacherSteps = 0;
    const x = sampleWithTeacher(model, labels, {
      teacher,
      tList: [0, t1],
      teacherStartT: P,
      splitT: split,
      noise,
      codebook,
      cfgScale: 2,
      topK: 8,
      rng: teacherRng(1),
      choose: forced,
      onStep: (s) => steps.push(s),
      onTeacherStep: () => teacherSteps++,
    });
    assert.equal(teacherSteps, t1 - P);
    assert.deepEqual(
      steps.map((s) => s.t),
      [...(P > 0 ? [0] : []), ...(t1 < L ? [t1] : [])],
    );
    const draft = P > 0 ? (steps[0] as StepTrace).x : null;
    for (let b = 0; b < 3; b++) {
      for (let j = 0; j < Math.min(t1, split); j++) {
        const row = x.data.subarray((b * L + j) * c, (b * L + j + 1) * c);
        let want: Float32Array;
        if (j < P) {
          const k = nearestCodebook(
            (draft as Float32Array).subarray((b * L + j) * c, (b * L + j + 1) * c),
            cbd,
            c,
          )[0] as number;
          want = cbd.subarray(k * c, (k + 1) * c);
        } else {
          const k = forced(new Float32Array(0), j - P)[b] as number;
          want = cbd.subarray(k * c, (k + 1) * c);
        }
        assert.deepEqual(Array.from(row), Array.from(want), `P ${P} sample ${b} token ${j}`);
      }
    }
  }
  assert.throws(
    () =>
      sampleWithTeacher(model, labels, {
        teacher,
        tList: [0],
        teacherStartT: 0,
        splitT: 4,
        noise,
        codebook,
        cfgScale: 2,
        rng: teacherRng(0),
      }),
    /two entries/,
  );
  assert.throws(
    () =>
      sampleWithTeacher(model, labels, {
        teacher,
        tList: [0, 6],
        teacherStartT: 6,
        splitT: 4,
        noise,
        codebook,
        cfgScale: 2,
        rng: teacherRng(0),
      }),
    /teacher_start_t/,
  );
});

test('sampleWithTeacher: seeded teacher draws are reproducible', () => {
  const noise = batchNoise(2, 3, L * c);
  const run = (seed: number) =>
    Array.from(
      sampleWithTeacher(model, labels, {
        teacher,
        tList: [0, 8],
        teacherStartT: 3,
        splitT: 6,
        noise,
        codebook,
        cfgScale: 2,
        topK: 8,
        rng: teacherRng(seed),
      }).data,
    );
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
});
