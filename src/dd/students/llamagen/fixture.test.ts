// The llamagen_dd checker on a synthetic fixture of another shape (GQA heads, 5×5 grid, three
// timesteps, a 3-step run, batch 3, weights.pt under "ema"): every name is derived from the
// configuration, everything recorded is checked, and a corrupted or unknown output fails.
// The expectations come from this port's reference path, so this tests the checker's
// generality, not parity (test/llamagen-dd-parity.test.ts runs the official fixture).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../../tensor/index.js';
import type { Tensor } from '../../../tensor/index.js';
import { loadSafetensors, saveSafetensors } from '../../../io/safetensors.js';
import { PickleWriter, torchZip } from '../../../io/testing.js';
import { normal_ } from '../../../nn/init.js';
import { validateVqConfig, VQ_16 } from '../../../models/llamagen/config.js';
import { VQModel } from '../../../models/llamagen/vq.js';
import { formatCheckLine } from '../../../models/fixture-report.js';
import { ddConfigFromJson } from './config.js';
import { DDTransformer, randomizeDD } from './student.js';
import { finalPredict, getFinalX, nearestCodebook, perturbData, toLatent } from './predict.js';
import { checkLlamagenDDFixture } from './fixture.js';

const CONFIG = {
  kind: 'llamagen_dd',
  dim: 48,
  n_layer: 3,
  n_head: 4,
  n_kv_head: 2,
  vocab_size: 40,
  block_size: 25,
  num_classes: 7,
  cls_token_num: 1,
  model_type: 'c2i',
  codebook_dim: 8,
  rope_base: 10000,
  norm_eps: 1e-5,
  multiple_of: 32,
  ffn_dim_multiplier: null,
  timesteps: [0, 3, 11],
  split_t: 9,
  sampling: { t_list: [0, 4, 13], split_t: 10 },
  batch: 3,
};

function writePt(path: string, sd: ReadonlyMap<string, Tensor>): void {
  const w = new PickleWriter().proto(2).emptyDict().str('ema').emptyDict();
  const storages: Record<string, Uint8Array> = {};
  let i = 0;
  for (const [name, t] of sd) {
    const key = String(i++);
    const strides = t.shape.map((_, a) => t.shape.slice(a + 1).reduce((p, q) => p * q, 1));
    w.str(name)
      .tensor('FloatStorage', key, t.size, 0, [...t.shape], strides)
      .setitem();
    storages[key] = new Uint8Array(Float32Array.from(t.data).buffer);
  }
  writeFileSync(path, torchZip(w.setitem().stop().bytes(), storages));
}

function i32(values: ArrayLike<number>, shape: number[]): Tensor {
  return new T.Tensor(Int32Array.from(values), shape);
}

function writeFixture(root: string): string {
  const dir = join(root, 'llamagen_dd');
  const vqDir = join(root, 'llamagen_vq');
  mkdirSync(dir);
  mkdirSync(vqDir);
  const vqJson = {
    ...VQ_16,
    codebook_size: 40,
    ch: 32,
    num_res_blocks: 1,
    encoder_ch_mult: [1, 1],
    decoder_ch_mult: [2, 1],
    z_channels: 16,
    codebook_show_usage: false,
  };
  const vq = new VQModel(validateVqConfig(vqJson));
  const rng = new T.Rng(11);
  for (const [, t] of vq.namedParameters())
    normal_(t, t.rank < 2 ? 0.1 : 1 / Math.sqrt(t.size / (t.shape[0] as number)), rng);
  writeFileSync(join(vqDir, 'config.json'), JSON.stringify({ kind: 'llamagen_vq', ...vqJson }));
  saveSafetensors(join(vqDir, 'weights.safetensors'), vq.stateDict());

  const cfg = ddConfigFromJson(CONFIG);
  const m = randomizeDD(new DDTransformer(cfg), new T.Rng(12), 0.1);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(CONFIG));
  saveSafetensors(join(dir, 'weights.safetensors'), m.stateDict());
  writePt(join(dir, 'weights.pt'), m.stateDict());

  const B = 3;
  const { block_size: L, codebook_dim: c } = cfg;
  const codebook = vq.quantize.codebook();
  const cb = codebook.data as Float32Array;
  const io = new Map<string, Tensor>([['codebook', codebook]]);
  const labels = i32([1, 6, 3], [B]);
  io.set('cond_idx', labels);
  T.noGrad(() => {
    for (const t of CONFIG.timesteps) {
      const di = new T.Rng(20 + t).randint(B * L, 40);
      const data = new Float32Array(B * L * c);
      for (let r = 0; r < B * L; r++)
        data.set(cb.subarray((di[r] as number) * c, ((di[r] as number) + 1) * c), r * c);
      const xd = perturbData(data, new T.Rng(30 + t).normal(B * L * c) as Float32Array, t, B, L, c);
      const x = new T.Tensor(xd, [B, L, c]);
      const gt = nearestCodebook(xd, cb, c);
      const out = m.forward(x, labels, t);
      const fp = finalPredict(m, x, labels, t, gt);
      io.set(`t${t}_timestep`, T.full([B], t))
        .set(`t${t}_x_BLC`, x)
        .set(`t${t}_data_idx`, i32(di, [B, L]))
        .set(`t${t}_gt_idx`, i32(gt, [B, L]))
        .set(`t${t}_tokens`, out.tokens)
        .set(`t${t}_logits`, out.logits)
        .set(`t${t}_fp_tokens`, fp.tokens)
        .set(`t${t}_fp_logits`, fp.logits)
        .set(`t${t}_final_x_split${CONFIG.split_t}`, getFinalX(fp, CONFIG.split_t, codebook));
    }
    const noise = new T.Rng(40).normal(B * L * c) as Float32Array;
    const runLabels = i32([0, 2, 5], [B]);
    io.set('run_cond_idx', runLabels).set('run_noise', new T.Tensor(noise, [B, L, c]));
    io.set('run_t_list', i32(CONFIG.sampling.t_list, [3])).set(
      'run_split_t',
      i32([CONFIG.sampling.split_t], [1]),
    );
    let x = noise;
    CONFIG.sampling.t_list.forEach((t, s) => {
      const xT = perturbData(x, noise, t, B, L, c);
      const gt = nearestCodebook(xT, cb, c);
      const fp = finalPredict(m, new T.Tensor(xT, [B, L, c]), runLabels, t, gt);
      const nx = getFinalX(fp, CONFIG.sampling.split_t, codebook);
      io.set(`run_step${s}_x_t`, new T.Tensor(xT, [B, L, c]))
        .set(`run_step${s}_gt_idx`, i32(gt, [B, L]))
        .set(`run_step${s}_fp_tokens`, fp.tokens)
        .set(`run_step${s}_fp_logits`, fp.logits)
        .set(`run_step${s}_x`, nx);
      x = nx.data as Float32Array;
    });
    const latent = toLatent(new T.Tensor(x, [B, L, c]));
    const img = vq.decode(latent);
    io.set('run_final_latent', latent)
      .set('run_decoded', img)
      .set('run_samples01', T.div(T.add(img, 1), 2));
  });
  saveSafetensors(join(dir, 'io.safetensors'), io, { intDtype: 'I64' });
  return dir;
}

test('checkLlamagenDDFixture: another size, GQA heads, three timesteps and a 3-step run', () => {
  const root = mkdtempSync(join(tmpdir(), 'ddar-dd-fixture-'));
  try {
    const dir = writeFixture(root);
    const r = checkLlamagenDDFixture(dir);
    assert.deepEqual(
      r.lines.filter((l) => !l.pass).map((l) => formatCheckLine(l)),
      [],
    );
    const names = r.lines.map((l) => l.name);
    for (const n of [
      't11_logits',
      't11_final_x_split9',
      't3_gt_idx',
      'run_step2_fp_logits',
      'run_step2_x (sampler)',
      'run_decoded',
    ])
      assert.ok(names.includes(n), `${n} was checked`);

    // A corrupted output and an unknown tensor both fail.
    const io = loadSafetensors(join(dir, 'io.safetensors'));
    const lg = io.get('t3_logits') as Tensor;
    lg.data[5] = (lg.data[5] as number) + 0.05;
    io.set('mystery', T.zeros([2]));
    saveSafetensors(join(dir, 'io.safetensors'), io, { intDtype: 'I64' });
    const bad = checkLlamagenDDFixture(dir)
      .lines.filter((l) => !l.pass)
      .map((l) => l.name);
    assert.deepEqual(bad.sort(), ['mystery', 't3_logits', 't3_logits (weights.safetensors)']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
