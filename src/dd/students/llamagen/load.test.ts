import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as T from '../../../tensor/index.js';
import { saveSafetensors } from '../../../io/safetensors.js';
import { findFixturesDir } from '../../../io/testing.js';
import { ddConfig } from './config.js';
import { DDTransformer, randomizeDD } from './student.js';
import { loadDD, loadDDWeights, readDDStateDict } from './load.js';

const cfg = ddConfig(null, {
  dim: 32,
  n_layer: 1,
  n_head: 4,
  vocab_size: 16,
  block_size: 9,
  num_classes: 3,
  codebook_dim: 4,
});

test('loadDD: safetensors round trip; freqs_cis dropped, extra keys reported, missing/mis-shaped keys listed', () => {
  const src = randomizeDD(new DDTransformer(cfg), new T.Rng(1));
  const dir = mkdtempSync(join(tmpdir(), 'ddar-dd-load-'));
  try {
    const sd = new Map(src.stateDict());
    sd.set('freqs_cis', T.zeros([10, 2, 2]));
    sd.set('codebook_used', T.zeros([4]));
    const ok = join(dir, 'ok.safetensors');
    saveSafetensors(ok, sd);
    const { model, report, key } = loadDD(ok, cfg);
    assert.equal(key, null);
    assert.deepEqual(report.unexpected, ['codebook_used']);
    for (const [k, t] of src.stateDict())
      assert.deepEqual(
        Array.from((model.stateDict().get(k) as T.Tensor).data),
        Array.from(t.data),
        k,
      );

    const bad = new Map(src.stateDict());
    bad.delete('n_d_embed.weight');
    bad.delete('final_layer_conti.linear.bias');
    bad.set('tok_embeddings.weight', T.zeros([16, 32])); // a teacher's token table
    const badPath = join(dir, 'bad.safetensors');
    saveSafetensors(badPath, bad);
    assert.throws(
      () => loadDD(badPath, cfg),
      (e: Error) =>
        /bad\.safetensors/.test(e.message) &&
        /missing keys \(2\).*n_d_embed\.weight/s.test(e.message) &&
        /tok_embeddings\.weight expected \[32, 4\] found \[16, 32\]/.test(e.message),
    );
    assert.throws(() => loadDD(ok, 'GPT-Z'), /unknown preset/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const fixtures = findFixturesDir();
const fx = fixtures ? join(fixtures, 'llamagen_dd', 'weights.pt') : null;

test(
  'readDDStateDict picks the "ema" sub-dict of an official-style .pt',
  { skip: fx && existsSync(fx) ? false : 'shared fixtures not found' },
  () => {
    const { sd, key } = readDDStateDict(fx as string);
    assert.equal(key, 'ema');
    assert.equal(sd.size, 23);
    const m = new DDTransformer(
      ddConfig(null, {
        dim: 64,
        n_layer: 2,
        n_head: 4,
        vocab_size: 64,
        block_size: 16,
        num_classes: 10,
      }),
    );
    assert.deepEqual(loadDDWeights(m, sd).unexpected, []);
    assert.deepEqual(readDDStateDict(fx as string, { key: 'ema' }).sd.size, 23);
    assert.throws(() => readDDStateDict(fx as string, { key: 'model' }), /not found/);
  },
);
