import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../tensor/index.js';
import { VQ_16, validateVqConfig } from './config.js';
import { Downsample, VQModel, upsampleNearest2x } from './vq.js';

test('VQ-16 has the official layout (attention at the coarsest levels, nin shortcuts)', () => {
  const vq = new VQModel();
  const sd = vq.stateDict();
  const shape = (k: string) => sd.get(k)?.shape;
  assert.deepEqual(shape('encoder.conv_blocks.4.attn.1.q.weight'), [512, 512, 1, 1]);
  assert.equal(sd.has('encoder.conv_blocks.3.attn.0.q.weight'), false);
  assert.deepEqual(shape('encoder.conv_blocks.2.res.0.nin_shortcut.weight'), [256, 128, 1, 1]);
  assert.deepEqual(shape('encoder.conv_blocks.3.downsample.conv.weight'), [256, 256, 3, 3]);
  assert.equal(sd.has('encoder.conv_blocks.4.downsample.conv.weight'), false);
  assert.deepEqual(shape('decoder.conv_blocks.0.attn.2.proj_out.weight'), [512, 512, 1, 1]);
  assert.deepEqual(shape('decoder.conv_blocks.1.res.0.nin_shortcut.weight'), [256, 512, 1, 1]);
  assert.deepEqual(shape('decoder.conv_blocks.3.res.2.conv2.weight'), [128, 128, 3, 3]);
  assert.equal(sd.has('decoder.conv_blocks.4.upsample.conv.weight'), false);
  assert.deepEqual(shape('quantize.embedding.weight'), [16384, 8]);
  assert.deepEqual(shape('quantize.codebook_used'), [65536]);
  assert.deepEqual(shape('post_quant_conv.weight'), [256, 8, 1, 1]);
  assert.equal(vq.decoder.norm_out.eps, 1e-6);
});

test('nearest ×2 upsampling: the inference loop equals the differentiable path', () => {
  const x = new T.Tensor(new T.Rng(1).normal(2 * 3 * 5 * 4) as Float32Array, [2, 3, 5, 4]);
  const fast = T.noGrad(() => upsampleNearest2x(x));
  const slow = upsampleNearest2x(T.mul(x.requireGrad(), 1));
  assert.deepEqual(fast.shape, [2, 3, 10, 8]);
  assert.deepEqual(Array.from(fast.data), Array.from(slow.data));
  assert.equal(fast.data[(0 * 10 + 3) * 8 + 5], x.data[(0 * 5 + 1) * 4 + 2]);
});

test('downsampling pads right and bottom only', () => {
  const d = new Downsample(1);
  d.conv.weight.data.fill(0);
  d.conv.weight.data[0] = 1; // top-left tap: output (i, j) reads input (2i, 2j), no shift
  const x = new T.Tensor(
    Float32Array.from({ length: 16 }, (_, i) => i),
    [1, 1, 4, 4],
  );
  const y = T.noGrad(() => d.forward(x));
  assert.deepEqual(y.shape, [1, 1, 2, 2]);
  assert.deepEqual(Array.from(y.data), [0, 2, 8, 10]);
});

test('encode → indices → decodeCode round trip on a tiny random VQ', () => {
  const vq = new VQModel(
    validateVqConfig({
      ...VQ_16,
      codebook_size: 32,
      ch: 32,
      num_res_blocks: 1,
      encoder_ch_mult: [1, 1],
      decoder_ch_mult: [1, 1],
      z_channels: 8,
      codebook_show_usage: false,
    }),
  );
  const rng = new T.Rng(5);
  for (const [, t] of vq.namedParameters()) {
    if (t.rank > 1) {
      const z = rng.normal(t.size);
      const s = 1 / Math.sqrt(t.size / (t.shape[0] as number));
      for (let i = 0; i < t.size; i++) t.data[i] = s * (z[i] as number);
    }
  }
  const img = new T.Tensor(rng.normal(2 * 3 * 8 * 8) as Float32Array, [2, 3, 8, 8]);
  T.noGrad(() => {
    const enc = vq.encode(img);
    assert.equal(enc.indices.length, 2 * 4 * 4);
    const a = vq.decode(enc.quant);
    const b = vq.decodeCode(new T.Tensor(enc.indices, [2, 16]), [2, 8, 4, 4]);
    for (let i = 0; i < a.size; i++)
      assert.ok(Math.abs((a.data[i] as number) - (b.data[i] as number)) < 1e-5);
  });
});
