// The optional LPIPS term of the trainer: with a tiny random LPIPS-VGG and a random 16×16 VQ
// decoder, the step loss is CE + MSE + weight · LPIPS (applied every k-th step), gradients reach
// the continuous head through the decoder, the decoder and the LPIPS network stay untouched, and
// the config / options mismatch is refused.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { randomLpips } from '../../eval/testing.js';
import * as T from '../../tensor/index.js';
import { ddLoss, studentInput, targetVectors } from './loss.js';
import { TINY_VQVAE } from '../toy/teachers.js';
import { randomInit_ } from '../../nn/init.js';
import { VAR } from '../../models/var/var.js';
import { VQVAE } from '../../models/var/vqvae.js';
import { llamagenStudent, varStudent } from './student.js';
import { Trainer } from './trainer.js';
import { stepTimesteps } from './data.js';
import { tinyRun, upsamplingVq } from './testing.js';

const run = tinyRun(64);
const vq = upsamplingVq(run.vq);
const lpips = randomLpips({ widths: [4, 4, 4, 4, 4] }, 1);
const perceptual = (a: T.Tensor, b: T.Tensor) => lpips.forward(a, b);
const student = (seed = 0) => llamagenStudent(run.gpt, vq, new T.Rng(seed));

test('lpips: the loss adds weight·LPIPS on every k-th step; gradients reach the continuous head', () => {
  const cfg = run.config({
    steps: 4,
    batchSize: 4,
    valSamples: 8,
    validateEvery: 100,
    lpips: { weights: 'unused.pth', weight: 2, every: 2 },
  });
  const st = student();
  const decoderBefore = [...vq.decoder.stateDict()].map(([, t]) => t.data.slice());
  const lpipsBefore = [...lpips.stateDict()].map(([, t]) => t.data.slice());
  const tr = new Trainer(cfg, st, run.dataset, { perceptual });

  // Step 0 by hand: the same batch, loss and perceptual term the trainer computes.
  const batch = tr.data.trainBatch(0, 4);
  const t = stepTimesteps(cfg.seed, 0, 4, tr.timesteps);
  const nData = t.map((tb) => st.dataTokens(tb));
  const vecs = targetVectors(batch.tokens, st.codebook, st.codeDim);
  const out = st.forward(studentInput(vecs, batch.noise, nData, 4, 4), batch.classes, t);
  const lv = ddLoss(out, batch.tokens, vecs, nData, cfg);
  st.module.zeroGrad();
  const term = tr.perceptualTerm(out.conti, vecs, nData);
  const lp = term.item();
  assert.ok(lp > 0, `LPIPS of the decoded prediction vs target should be positive, got ${lp}`);
  T.backward(term);
  const grads = new Map(st.module.namedParameters().map(([n, p]) => [n, p.grad]));
  const nonzero = (n: string) => grads.get(n)?.data.some((v) => v !== 0) ?? false;
  assert.ok(nonzero('final_layer_conti.linear.weight'), 'the continuous head gets LPIPS gradients');
  assert.ok(nonzero('tok_embeddings.weight'), 'and the trunk below it');
  assert.ok(!nonzero('output.weight'), 'the logits head gets none');
  for (const p of [...vq.decoder.parameters(), ...lpips.parameters()]) assert.equal(p.grad, null);

  const ms = tr.run();
  assert.equal(ms.length, 4);
  assert.ok(Math.abs((ms[0]?.lpips ?? NaN) - lp) <= 1e-6 * lp, `${ms[0]?.lpips} vs ${lp}`);
  const want = lv.loss.item() + 2 * lp;
  assert.ok(
    Math.abs((ms[0]?.loss ?? NaN) - want) <= 1e-5 * want,
    `loss ${ms[0]?.loss} vs CE+MSE+2·LPIPS ${want}`,
  );
  assert.equal(ms[1]?.lpips, undefined, 'every: 2 skips step 1');
  assert.ok(ms[2]?.lpips !== undefined);
  assert.ok(Math.abs((ms[1]?.loss ?? 0) - ((ms[1]?.ce ?? 0) + (ms[1]?.mse ?? 0))) < 1e-5);
  [...vq.decoder.stateDict()].forEach(([n, x], i) =>
    assert.deepEqual(x.data, decoderBefore[i], `decoder ${n} unchanged`),
  );
  [...lpips.stateDict()].forEach(([n, x], i) =>
    assert.deepEqual(x.data, lpipsBefore[i], `lpips ${n} unchanged`),
  );
});

test('lpips: a config with lpips needs the network and the decoder, and vice versa', () => {
  const cfg = run.config({ lpips: { weights: 'x.pth' } });
  assert.throws(
    () => new Trainer(cfg, student(), run.dataset),
    /sets lpips but no perceptual network/,
  );
  assert.throws(
    () => new Trainer(run.config(), student(), run.dataset, { perceptual }),
    /no lpips entry/,
  );
  const bare = llamagenStudent(run.gpt, vq, new T.Rng(0));
  const noDecoder = { ...bare, decodeLatent: null };
  assert.throws(
    () => new Trainer(cfg, noDecoder, run.dataset, { perceptual }),
    /needs the llamagen student's VQ decoder/,
  );
});

test('decodeLatent (VAR): codebook rows decode as idxBl_to_img before its clamp; gradients reach x only', () => {
  const cfg = { ...TINY_VQVAE };
  const vae = randomInit_(new VQVAE(cfg), new T.Rng(31));
  const teacher = randomInit_(
    new VAR({
      depth: 1,
      embed_dim: 16,
      num_heads: 2,
      mlp_ratio: 2,
      norm_eps: 1e-6,
      attn_l2_norm: true,
      shared_aln: false,
      num_classes: 2,
      cond_drop_rate: 0.1,
      patch_nums: [1, 2],
      vocab_size: cfg.vocab_size,
      Cvae: cfg.z_channels,
    }),
    new T.Rng(32),
  );
  const st = varStudent(teacher, vae, new T.Rng(33));
  const B = 2;
  const idx = Int32Array.from({ length: B * 5 }, (_, i) => (i * 3) % cfg.vocab_size);
  const x = new T.Tensor(targetVectors(idx, st.codebook, st.codeDim), [
    B,
    5,
    st.codeDim,
  ]).requireGrad();
  const img = st.decodeLatent?.(x) as T.Tensor;
  const idx0 = Int32Array.from([idx[0] as number, idx[5] as number]);
  const idx1 = Int32Array.from([...idx.subarray(1, 5), ...idx.subarray(6, 10)]);
  const want = vae.decodeRaw(vae.quantize.idxBlToFhat([idx0, idx1], B)[1] as T.Tensor);
  assert.deepEqual(img.shape, want.shape);
  const err = Math.max(...[...img.data].map((v, i) => Math.abs(v - (want.data[i] as number))));
  assert.ok(err < 1e-5, `max error ${err}`);
  T.backward(T.sum(T.square(img)));
  assert.ok(
    x.grad?.data.some((v) => v !== 0),
    'x gets a gradient',
  );
  for (const p of vae.parameters()) assert.equal(p.grad, null, 'the VQVAE is frozen');
});

test('decodeLatent (LlamaGen): codebook rows decode as VQModel.decodeCode', () => {
  const st = student();
  const idx = Int32Array.from({ length: 8 }, (_, i) => (i * 5) % 8);
  const x = new T.Tensor(targetVectors(idx, st.codebook, 4), [2, 4, 4]);
  const img = T.noGrad(() => st.decodeLatent?.(x) as T.Tensor);
  const want = T.noGrad(() => vq.decodeCode(new T.Tensor(idx, [2, 4]), [2, 4, 2, 2]));
  assert.deepEqual(img.shape, [2, 3, 16, 16]);
  const err = Math.max(...[...img.data].map((v, i) => Math.abs(v - (want.data[i] as number))));
  assert.ok(err < 1e-5, `max error ${err}`);
});
