// The public pipeline on both registered families at tiny sizes: teacher and DD methods,
// noise identity independent of batching, validation errors naming the field.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dd, loadPipeline } from '../src/index.js';

const LLAMAGEN = {
  family: 'llamagen',
  random: true,
  seed: 3,
  imageSize: 16,
  config: {
    tokenizer: { codebook_size: 32, codebook_embed_dim: 4, encoder_ch_mult: [1, 1], decoder_ch_mult: [1, 1], z_channels: 32, ch: 32, num_res_blocks: 1 },
    student: { dim: 32, n_layer: 2, n_head: 2, vocab_size: 32, block_size: 64, num_classes: 3, codebook_dim: 4 },
  },
} as const;

test('registry lists both families; unknown family is named', async () => {
  assert.deepEqual([...dd.FAMILY_NAMES], ['llamagen', 'var']);
  await assert.rejects(loadPipeline({ family: 'gan' }), /unknown model family 'gan'; known: llamagen, var/);
});

test('llamagen pipeline: teacher and DD 1/2-step images; (seed, i) noise independent of batch size', async () => {
  const pipe = await loadPipeline({ ...LLAMAGEN, backend: 'ts' });
  assert.equal(pipe.info.numClasses, 3);
  assert.equal(pipe.info.teacherSteps, 64);
  const stages = new Set<string>();
  const t = await pipe.generate({ classes: [0, 2], method: 'teacher', seed: 1, onProgress: (p) => stages.add(p.stage) });
  assert.equal(t.images.length, 2);
  assert.equal(t.images[0]!.width, 16);
  assert.ok(stages.has('teacher'));
  const a = await pipe.generate({ classes: [0, 1, 2], method: 'dd', steps: 2, seed: 5, batchSize: 3 });
  const b = await pipe.generate({ classes: [0, 1, 2], method: 'dd', steps: 2, seed: 5, batchSize: 1 });
  assert.deepEqual(a.tList, [0, 20]);
  a.images.forEach((img, i) => assert.deepEqual(img.data, b.images[i]!.data));
  const c = await pipe.generate({ classes: [1], method: 'dd', noiseIds: [{ seed: 5, index: 1 }] });
  const d1 = await pipe.generate({ classes: [0, 1], method: 'dd', seed: 5 });
  assert.deepEqual(c.images[0]!.data, d1.images[1]!.data);
  const png = c.images[0]!.toPNG();
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]);
});

test('pipeline validation names the problem', async () => {
  const pipe = await loadPipeline({ ...LLAMAGEN, backend: 'ts' });
  await assert.rejects(pipe.generate({ classes: [3] }), /class 3 is not in \[0, 3\)/);
  await assert.rejects(pipe.generate({ classes: [] }), /classes is empty/);
  await assert.rejects(pipe.generate({ classes: [0], steps: 3 }), /steps 3: use 1 or 2/);
  await assert.rejects(pipe.generate({ classes: [0], seed: -1 }), /seed -1/);
  await assert.rejects(pipe.generate({ classes: [0], teacherStart: 4 }), /teacherStart needs two DD steps/);
});

test('var pipeline: teacher and DD images at a tiny config', async () => {
  const pipe = await loadPipeline({
    family: 'var',
    random: true,
    backend: 'ts',
    config: {
      tokenizer: { vocab_size: 16, z_channels: 8, ch: 16, ch_mult: [1, 1], num_res_blocks: 1, using_sa: false, using_mid_sa: false, groupnorm_groups: 8, quant_conv_ks: 1, share_quant_resi: 1, v_patch_nums: [1, 2, 3] },
      student: { depth: 2, embed_dim: 32, num_heads: 2, num_classes: 4, patch_nums: [1, 2, 3], vocab_size: 16, Cvae: 8 },
    },
  });
  assert.equal(pipe.info.teacherSteps, 3);
  const t = await pipe.generate({ classes: [1, 3], method: 'teacher' });
  const s = await pipe.generate({ classes: [1, 3], method: 'dd', steps: 2, teacherStart: 0 });
  for (const r of [t, s]) {
    assert.equal(r.images.length, 2);
    assert.equal(r.images[0]!.data.length, r.images[0]!.width * r.images[0]!.height * 3);
  }
});
