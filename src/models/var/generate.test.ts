import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../tensor/index.js';
import { varConfigFromJson, vqvaeConfigFromJson } from './config.js';
import { argmaxRows } from '../../sampling/argmax.js';
import { generate, sampleImages } from './generate.js';
import { randomInit_ } from '../../nn/init.js';
import { VAR } from './var.js';
import { VQVAE } from './vqvae.js';

const model = randomInit_(
  new VAR(
    varConfigFromJson({
      depth: 2,
      embed_dim: 32,
      num_heads: 2,
      num_classes: 4,
      patch_nums: [1, 2, 3],
      vocab_size: 24,
      Cvae: 4,
    }),
  ),
  new T.Rng(5),
);
const vae = randomInit_(
  new VQVAE(
    vqvaeConfigFromJson({
      vocab_size: 24,
      z_channels: 4,
      ch: 32,
      encoder_ch_mult: [1, 1],
      decoder_ch_mult: [1, 1],
      num_res_blocks: 1,
      v_patch_nums: [1, 2, 3],
    }),
  ),
  new T.Rng(6),
);
const labels = Int32Array.from([1, 3]);
const argmax = (l: Float32Array, r: number, V: number) => argmaxRows(l, r, V);

test('sampling is a function of the seed; top-k 1 is greedy', () => {
  const run = (seed: number, topK = 0) =>
    generate(model, vae.quantize, { labels, cfg: 1.5, topK, rng: new T.Rng(seed) }).idx.map((x) => [
      ...x,
    ]);
  assert.deepEqual(run(0), run(0));
  assert.notDeepEqual(run(0), run(1));
  const greedy = generate(model, vae.quantize, { labels, cfg: 1.5, choose: argmax }).idx.map(
    (x) => [...x],
  );
  assert.deepEqual(run(7, 1), greedy);
});

test('endPoint truncates; a prefix is copied as given and the continuation has the full length', () => {
  const full = generate(model, vae.quantize, { labels, cfg: 1.5, choose: argmax });
  const part = generate(model, vae.quantize, { labels, cfg: 1.5, choose: argmax, endPoint: 2 });
  assert.deepEqual(part.sequence.shape, [2, 5, 4]);
  assert.deepEqual(
    part.idx.map((x) => [...x]),
    full.idx.slice(0, 2).map((x) => [...x]),
  );
  const noisy = T.add(full.sequence, 0.25); // not codebook rows: must be kept as given
  const cont = generate(model, vae.quantize, {
    labels,
    cfg: 1.5,
    choose: argmax,
    prefix: { tokens: noisy, startT: 2 },
  });
  assert.deepEqual(cont.sequence.shape, [2, 14, 4]);
  assert.deepEqual(T.narrow(cont.sequence, 1, 0, 5).toArray(), T.narrow(noisy, 1, 0, 5).toArray());
  assert.equal(cont.idx.length, 1);
  const zero = generate(model, vae.quantize, {
    labels,
    cfg: 1.5,
    choose: argmax,
    prefix: { tokens: noisy, startT: 0 },
  });
  assert.deepEqual(
    zero.idx.map((x) => [...x]),
    full.idx.map((x) => [...x]),
  );
});

test('sampleImages decodes to clamped images; bad inputs are explained', () => {
  const { images } = sampleImages(model, vae, {
    labels,
    cfg: 1.5,
    topK: 5,
    topP: 0.9,
    rng: new T.Rng(2),
  });
  assert.deepEqual(images.shape, [2, 3, 6, 6]);
  assert.ok(images.toArray().every((x) => x >= -1 && x <= 1));
  assert.throws(() => generate(model, vae.quantize, { labels, cfg: 1.5 }), /rng/);
  assert.throws(
    () => generate(model, vae.quantize, { labels, choose: argmax, endPoint: 4 }),
    /endPoint/,
  );
});
