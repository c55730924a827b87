import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PATCH_NUMS_256,
  scaleSchedule,
  varConfigFromJson,
  varPreset,
  vqvaeConfigFromJson,
  VQVAE_CH160V4096Z32,
} from './config.js';

test('256 px schedule: L = 680, cum and levels as in var-dd.md §0', () => {
  const s = scaleSchedule(PATCH_NUMS_256);
  assert.equal(s.L, 680);
  assert.equal(s.HW, 16);
  assert.deepEqual(s.cum, [0, 1, 5, 14, 30, 55, 91, 155, 255, 424, 680]);
  assert.deepEqual([s.level[0], s.level[1], s.level[4], s.level[5], s.level[679]], [0, 1, 1, 2, 9]);
  let allowed = 0;
  for (let i = 0; i < s.L; i++)
    for (let j = 0; j < s.L; j++) if ((s.level[j] as number) <= (s.level[i] as number)) allowed++;
  assert.equal(allowed, 286434);
});

test('presets follow build_vae_var: C = 64·depth, H = depth, shared AdaLN off, L2 attention on', () => {
  for (const d of [16, 20, 24, 30]) {
    const c = varPreset(d);
    assert.equal(c.embed_dim, 64 * d);
    assert.equal(c.num_heads, d);
    assert.equal(c.shared_aln, false);
    assert.equal(c.attn_l2_norm, true);
    assert.equal(c.vocab_size, 4096);
    assert.equal(c.Cvae, 32);
  }
  assert.equal(VQVAE_CH160V4096Z32.ch, 160);
  assert.throws(() => varPreset(16, { num_heads: 5 }), /not divisible/);
});

test('config.json readers take the official keys and reject bad values with the key named', () => {
  const v = varConfigFromJson({
    depth: 2,
    embed_dim: 64,
    num_heads: 4,
    num_classes: 10,
    patch_nums: [1, 2, 3, 4],
    vocab_size: 64,
    Cvae: 8,
  });
  assert.equal(v.mlp_ratio, 4);
  assert.deepEqual(v.patch_nums, [1, 2, 3, 4]);
  assert.throws(() => varConfigFromJson({ depth: 'x', embed_dim: 64, num_heads: 4 }), /'depth'/);
  assert.throws(
    () => varConfigFromJson({ depth: 2, embed_dim: 64, num_heads: 4, patch_nums: [1, 3, 2] }),
    /increasing/,
  );
  const q = vqvaeConfigFromJson({
    vocab_size: 64,
    z_channels: 8,
    ch: 32,
    encoder_ch_mult: [1, 1],
    decoder_ch_mult: [2, 1],
    num_res_blocks: 1,
    v_patch_nums: [1, 2, 3, 4],
  });
  assert.deepEqual(q.decoder_ch_mult, [2, 1]);
  assert.throws(() => vqvaeConfigFromJson({ ch: 20 }), /GroupNorm/);
});
