import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../tensor/index.js';
import { varConfigFromJson, vqvaeConfigFromJson, type VarConfig } from './config.js';
import { argmaxRows } from '../../sampling/argmax.js';
import { generate, type ScaleStep } from './generate.js';
import { randomInit_ } from '../../nn/init.js';
import { VAR } from './var.js';
import { VQVAE } from './vqvae.js';

const small = (over: Partial<VarConfig> = {}): VarConfig => ({
  ...varConfigFromJson({
    depth: 2,
    embed_dim: 48,
    num_heads: 3,
    num_classes: 5,
    patch_nums: [1, 2, 4],
    vocab_size: 16,
    Cvae: 4,
  }),
  ...over,
});
const vae = () =>
  randomInit_(
    new VQVAE(
      vqvaeConfigFromJson({
        vocab_size: 16,
        z_channels: 4,
        ch: 32,
        encoder_ch_mult: [1, 1],
        decoder_ch_mult: [1, 1],
        num_res_blocks: 1,
        v_patch_nums: [1, 2, 4],
      }),
    ),
    new T.Rng(9),
  );

test('state dict: official names, buffers included, parameter count as var-dd.md §3.1', () => {
  const m = new VAR(small());
  const keys = [...m.stateDict().keys()];
  for (const k of [
    'pos_start',
    'pos_1LC',
    'lvl_1L',
    'attn_bias_for_masking',
    'word_embed.weight',
    'class_emb.weight',
    'lvl_embed.weight',
    'blocks.1.attn.mat_qkv.weight',
    'blocks.0.attn.q_bias',
    'blocks.0.attn.v_bias',
    'blocks.0.attn.zero_k_bias',
    'blocks.0.attn.scale_mul_1H11',
    'blocks.0.attn.proj.bias',
    'blocks.0.ffn.fc1.weight',
    'blocks.0.ffn.fc2.bias',
    'blocks.0.ada_lin.1.weight',
    'head_nm.ada_lin.1.bias',
    'head.weight',
  ]) {
    assert.ok(keys.includes(k), k);
  }
  assert.equal(keys.length, 38);
  assert.ok(!keys.includes('blocks.0.attn.mat_qkv.bias'));
  const C = 48,
    H = 3,
    L = 21,
    V = 16,
    Cv = 4,
    SN = 3;
  const expected =
    2 * (18 * C * C + 14 * C + H) +
    (Cv * C + C) +
    6 * C +
    C +
    L * C +
    SN * C +
    (2 * C * C + 2 * C) +
    (V * C + V);
  assert.equal(m.numParameters(), expected);
  const shared = [...new VAR(small({ shared_aln: true })).stateDict().keys()];
  assert.ok(shared.includes('shared_ada_lin.1.weight') && shared.includes('blocks.0.ada_gss'));
  assert.ok(!shared.includes('blocks.0.ada_lin.1.weight'));
});

test('KV-cached per-scale inference gives the teacher-forcing logits of the sampled sequence', () => {
  const m = randomInit_(new VAR(small()), new T.Rng(1));
  const v = vae();
  const labels = Int32Array.from([0, 4, 5]);
  const steps: ScaleStep[] = [];
  const res = generate(m, v.quantize, {
    labels,
    cfg: 2,
    choose: (l, r, V) => argmaxRows(l, r, V),
    onScale: (s) => steps.push(s),
  });
  const tf = T.noGrad(() => m.forward(labels, v.quantize.idxBlToVarInput(res.idx, 3))); // [B, L, V]
  const { cum } = m.sched;
  let err = 0;
  for (const s of steps) {
    const n = (cum[s.k + 1] as number) - (cum[s.k] as number);
    for (let b = 0; b < 3; b++) {
      for (let i = 0; i < n * 16; i++) {
        const a = s.rawLogits.data[b * n * 16 + i] as number;
        const e = tf.data[(b * 21 + (cum[s.k] as number)) * 16 + i] as number;
        err = Math.max(err, Math.abs(a - e));
      }
    }
  }
  assert.ok(err < 1e-4, `max diff ${err}`);
});

test('teacher forcing records gradients for every parameter kind', () => {
  const m = randomInit_(new VAR(small()), new T.Rng(2));
  const x = new T.Tensor(new T.Rng(3).normal(2 * 20 * 4) as Float32Array, [2, 20, 4]);
  const loss = T.sum(T.square(m.forward(Int32Array.from([1, 2]), x)));
  T.backward(loss);
  for (const name of [
    'blocks.0.attn.scale_mul_1H11',
    'blocks.1.attn.q_bias',
    'blocks.0.ada_lin.1.weight',
    'pos_1LC',
    'word_embed.weight',
  ]) {
    const p = m.stateDict().get(name) as T.Tensor;
    assert.ok(p.grad && p.grad.toArray().some((g) => g !== 0), name);
  }
});

test('labels outside [0, num_classes] are rejected with the range named', () => {
  const m = new VAR(small());
  assert.throws(() => m.classCond(Int32Array.from([6])), /outside \[0, 5\]/);
});
