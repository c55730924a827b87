import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../../tensor/index.js';
import { concatPos } from './config.js';
import { nearestCodebook } from './predict.js';
import {
  DD_TEACHER_DEFAULTS,
  sampleVarDD,
  sampleVarDDWithTeacher,
  type DDStepInfo,
} from './sample.js';
import { smallStudent, smallTeacher, smallVae } from './testing.js';
import { batchNoise, teacherRng } from '../../noise.js';

const L = 30;
const Cv = 8;
const labels = Int32Array.from([1, 5]);
const rows = (t: T.Tensor, b: number, from: number, to: number) => [
  ...t.data.slice((b * L + from) * Cv, (b * L + to) * Cv),
];

test('ddNoise: image i is stream 2i of the seed, independent of the batch it is drawn in', () => {
  const two = new T.Tensor(batchNoise(7, 2, L * Cv), [2, L, Cv]);
  const second = new T.Tensor(batchNoise(7, 1, L * Cv, 1), [1, L, Cv]);
  assert.deepEqual([...second.data], [...two.data.slice(L * Cv)]);
  assert.deepEqual([...two.data.slice(0, L * Cv)], [...T.normalStream(7, 0, L * Cv)]);
  assert.equal(teacherRng(7, 3).stream, 7);
});

test('few-step sampling: one forward per t, the original noise on the tail, codebook rows before P', () => {
  const m = smallStudent();
  const vae = smallVae();
  const E = vae.quantize.embedding.weight;
  const noise = new T.Tensor(batchNoise(0, 2, L * Cv), [2, L, Cv]);
  const steps: DDStepInfo[] = [];
  const r = sampleVarDD(m, vae.quantize, {
    labels,
    tList: [0, 2],
    splitT: 2,
    noise,
    onStep: (s) => steps.push(s),
  });
  assert.deepEqual(
    steps.map((s) => s.t),
    [0, 2],
  );
  const s1 = steps[1] as DDStepInfo;
  for (const b of [0, 1]) {
    assert.deepEqual(rows(s1.input, b, 0, 5), rows((steps[0] as DDStepInfo).output, b, 0, 5));
    assert.deepEqual(rows(s1.input, b, 5, L), rows(noise, b, 5, L));
  }
  const P = concatPos(m.sched, 2);
  const head = T.narrow(T.reshape(r.tokens, [2 * L, Cv]), 0, 0, P);
  const snapped = T.embedding(E, new T.Tensor(nearestCodebook(head, E), [P]));
  assert.deepEqual([...snapped.data], rows(r.tokens, 0, 0, P));
  assert.deepEqual(r.fhat.shape, [2, Cv, 4, 4]);
  const again = sampleVarDD(m, vae.quantize, { labels, tList: [0, 2], splitT: 2, noise });
  assert.deepEqual([...again.tokens.data], [...r.tokens.data]);
  const one = sampleVarDD(m, vae.quantize, { labels, tList: [0], splitT: 2, noise });
  assert.deepEqual([...one.tokens.data], [...(steps[0] as DDStepInfo).output.data]);
  assert.throws(
    () => sampleVarDD(m, vae.quantize, { labels, tList: [4], splitT: 2, noise }),
    /t_list entry 4 is outside/,
  );
  assert.throws(
    () =>
      sampleVarDD(m, vae.quantize, { labels, tList: [0], splitT: 2, noise: new T.Tensor(batchNoise(0, 1, L * Cv), [1, L, Cv]) }),
    /noise must be \[2, 30, 8\]/,
  );
});

test('teacher-involved: snapped DD prefix, teacher span to t_list[1], noise tail, final DD step', () => {
  const m = smallStudent();
  const teacher = smallTeacher();
  const vae = smallVae();
  const E = vae.quantize.embedding.weight;
  const noise = new T.Tensor(batchNoise(1, 2, L * Cv), [2, L, Cv]);
  const steps: DDStepInfo[] = [];
  const seqs: T.Tensor[] = [];
  const run = (T0: number, tList: number[]) =>
    sampleVarDDWithTeacher(m, vae.quantize, {
      labels,
      tList,
      splitT: 3,
      noise,
      teacher,
      teacherStart: T0,
      rng: teacherRng(1),
      onStep: (s) => steps.push(s),
      onTeacher: (s) => seqs.push(s),
    });
  const r = run(2, [0, 3]);
  assert.deepEqual(
    steps.map((s) => s.t),
    [0, 3],
  );
  const sequence = seqs[0] as T.Tensor;
  assert.deepEqual(sequence.shape, [2, 14, Cv]);
  // The teacher's prefix (scales 0, 1 = tokens 0..4) is the first DD output snapped to the codebook.
  const first = (steps[0] as DDStepInfo).output;
  const snap = T.embedding(
    E,
    new T.Tensor(nearestCodebook(T.reshape(first, [2 * L, Cv]), E), [2, L]),
  );
  for (const b of [0, 1]) {
    assert.deepEqual([...sequence.data.slice(b * 14 * Cv, (b * 14 + 5) * Cv)], rows(snap, b, 0, 5));
    const last = steps[1] as DDStepInfo;
    assert.deepEqual(rows(last.input, b, 0, 14), [
      ...sequence.data.slice(b * 14 * Cv, (b + 1) * 14 * Cv),
    ]);
    assert.deepEqual(rows(last.input, b, 14, L), rows(noise, b, 14, L));
  }
  assert.deepEqual([...run(2, [0, 3]).tokens.data], [...r.tokens.data]);
  // T = 0 skips the first DD step; t_list[1] = SN skips the last one.
  steps.length = 0;
  run(0, [0, 3]);
  assert.deepEqual(
    steps.map((s) => s.t),
    [3],
  );
  steps.length = 0;
  const full = run(1, [0, 4]);
  assert.deepEqual(
    steps.map((s) => s.t),
    [0],
  );
  assert.deepEqual([...full.tokens.data], [...(seqs[seqs.length - 1] as T.Tensor).data]);
  assert.throws(() => run(4, [0, 3]), /teacher start 4 must be in \[0, t_list\[1\] = 3\]/);
  assert.deepEqual(DD_TEACHER_DEFAULTS, { cfg: 2, topK: 900, topP: 0.95 });
});
