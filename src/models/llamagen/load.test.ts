import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSafetensors } from '../../io/safetensors.js';
import * as T from '../../tensor/index.js';
import { VQ_16, gptConfig, validateVqConfig } from './config.js';
import { Transformer, randomizeGpt } from './gpt.js';
import { VQModel } from './vq.js';
import { loadGpt, loadVq } from './load.js';

const cfg = gptConfig(null, {
  dim: 32,
  n_layer: 1,
  n_head: 2,
  vocab_size: 8,
  block_size: 4,
  num_classes: 3,
});

test('GPT loading: a stray freqs_cis is dropped; problems are listed all at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddar-load-'));
  try {
    const src = randomizeGpt(new Transformer(cfg), new T.Rng(1));
    const sd = new Map(src.stateDict());
    sd.set('freqs_cis', T.zeros([5, 8, 2]));
    saveSafetensors(join(dir, 'ok.safetensors'), sd);
    const m = loadGpt(join(dir, 'ok.safetensors'), cfg).model;
    assert.deepEqual(Array.from(m.output.weight.data), Array.from(src.output.weight.data));
    const bad = new Map(src.stateDict());
    bad.delete('norm.weight');
    bad.set('extra.weight', T.zeros([1]));
    bad.set('output.weight', T.zeros([9, 32]));
    saveSafetensors(join(dir, 'bad.safetensors'), bad);
    assert.throws(
      () => loadGpt(join(dir, 'bad.safetensors'), cfg),
      (e: Error) => {
        assert.match(e.message, /missing keys \(1\): norm\.weight/);
        assert.match(e.message, /unexpected keys \(1\): extra\.weight/);
        assert.match(e.message, /output\.weight expected \[8, 32\] found \[9, 32\]/);
        return true;
      },
    );
    assert.throws(() => loadGpt(join(dir, 'ok.safetensors'), 'GPT-Q'), /unknown preset 'GPT-Q'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('VQ loading accepts and ignores quantize.codebook_used when the model has none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddar-load-'));
  try {
    const c = validateVqConfig({
      ...VQ_16,
      codebook_size: 16,
      ch: 32,
      num_res_blocks: 1,
      encoder_ch_mult: [1],
      decoder_ch_mult: [1],
      z_channels: 8,
      codebook_show_usage: false,
    });
    const sd = new Map(new VQModel(c).stateDict());
    sd.set('quantize.codebook_used', T.zeros([65536]));
    saveSafetensors(join(dir, 'vq.safetensors'), sd);
    const vq = loadVq(join(dir, 'vq.safetensors'), c).model;
    assert.equal(vq.stateDict().has('quantize.codebook_used'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
