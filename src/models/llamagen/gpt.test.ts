import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../tensor/index.js';
import { GPT_PRESETS, gptConfig, gptDims, type GptPresetName } from './config.js';
import { Transformer, randomizeGpt } from './gpt.js';
import { precomputeFreqsCis2d } from './rope.js';

/** Teacher parameter count from the shape formulas of the reference (c2i, V = 16384). */
function paramCount(name: GptPresetName): number {
  const c = gptConfig(name);
  const { ffnHidden: F } = gptDims(c);
  const D = c.dim;
  return (
    (c.num_classes + 1) * D +
    2 * c.vocab_size * D +
    D +
    c.n_layer * (3 * D * D + D * D + 3 * F * D + 2 * D)
  );
}

test('presets: SwiGLU widths and the published parameter counts', () => {
  const widths = {
    'GPT-B': 2048,
    'GPT-L': 2816,
    'GPT-XL': 3584,
    'GPT-XXL': 4096,
    'GPT-XXXL': 6912,
  } as const;
  for (const [k, F] of Object.entries(widths))
    assert.equal(gptDims(gptConfig(k as GptPresetName)).ffnHidden, F, k);
  assert.equal(paramCount('GPT-B'), 110_888_448);
  assert.equal(paramCount('GPT-L'), 342_910_976);
  assert.equal(paramCount('GPT-XL'), 774_699_520);
  assert.ok(Object.keys(GPT_PRESETS).includes('GPT-XXXL'));
});

test('GPT-B builds with the official state-dict names and shapes', () => {
  const m = new Transformer(gptConfig('GPT-B'));
  const sd = m.stateDict();
  assert.equal(m.numParameters(), paramCount('GPT-B'));
  const shape = (k: string) => sd.get(k)?.shape;
  assert.deepEqual(shape('cls_embedding.embedding_table.weight'), [1001, 768]);
  assert.deepEqual(shape('tok_embeddings.weight'), [16384, 768]);
  assert.deepEqual(shape('layers.11.attention.wqkv.weight'), [2304, 768]);
  assert.deepEqual(shape('layers.0.feed_forward.w2.weight'), [768, 2048]);
  assert.deepEqual(shape('output.weight'), [16384, 768]);
  assert.equal(sd.size, 2 + 12 * 7 + 2);
});

test('2-D RoPE: zero rows for the condition, rows then columns, interleaved pairs', () => {
  const t = precomputeFreqsCis2d(4, 16, 10000, 1); // [17, 8, 2]
  assert.deepEqual(t.shape, [17, 8, 2]);
  for (let i = 0; i < 16; i++) assert.equal(t.data[i], 0);
  // token j = 6 sits at row 1, column 2: pair 0 rotates by 1·θ0 = 1, pair 4 by 2·θ0 = 2.
  const row = (1 + 6) * 16;
  assert.ok(Math.abs((t.data[row] as number) - Math.cos(1)) < 1e-7);
  assert.ok(Math.abs((t.data[row + 8] as number) - Math.cos(2)) < 1e-7);
  assert.ok(Math.abs((t.data[row + 9] as number) - Math.sin(2)) < 1e-7);
});

test('grouped K/V heads: the KV-cache path equals the full causal forward', () => {
  const m = randomizeGpt(
    new Transformer(
      gptConfig(null, {
        dim: 64,
        n_layer: 2,
        n_head: 4,
        n_kv_head: 2,
        vocab_size: 32,
        block_size: 16,
        num_classes: 5,
      }),
    ),
    new T.Rng(3),
    0.2,
  );
  assert.deepEqual(m.stateDict().get('layers.0.attention.wqkv.weight')?.shape, [128, 64]);
  const labels = new T.Tensor(Int32Array.from([0, 4, 5]), [3]);
  const tokens = new T.Tensor(new T.Rng(4).randint(3 * 16, 32), [3, 16]);
  T.noGrad(() => {
    const full = m.forward(tokens, labels); // [3, 17, 32]
    assert.deepEqual(full.shape, [3, 17, 32]);
    const cache = m.newCache(3);
    const rows = [m.forward(null, labels, { cache })];
    for (let i = 0; i < 16; i++) rows.push(m.forward(T.narrow(tokens, 1, i, 1), null, { cache }));
    const inc = T.concat(rows, 1);
    let err = 0;
    for (let i = 0; i < full.size; i++)
      err = Math.max(err, Math.abs((full.data[i] as number) - (inc.data[i] as number)));
    assert.ok(err < 1e-4, `max diff ${err}`);
    // A prefix prefill (condition + 5 tokens) then decoding gives the same rows again.
    const c2 = m.newCache(3);
    const pre = m.forward(T.narrow(tokens, 1, 0, 5), labels, { cache: c2, lastOnly: true }); // predicts token 5
    assert.deepEqual(pre.shape, [3, 1, 32]);
    for (let b = 0; b < 3; b++) {
      for (let v = 0; v < 32; v++) {
        const d = Math.abs(
          (pre.data[b * 32 + v] as number) - (full.data[(b * 17 + 5) * 32 + v] as number),
        );
        assert.ok(d < 1e-4);
      }
    }
    assert.throws(
      () => m.forward(T.narrow(tokens, 1, 0, 1), null, { cache: m.newCache(2) }),
      /batch 3/,
    );
  });
});

test('errors name the problem', () => {
  const m = new Transformer(
    gptConfig(null, {
      dim: 32,
      n_layer: 1,
      n_head: 2,
      vocab_size: 8,
      block_size: 4,
      num_classes: 3,
    }),
  );
  assert.throws(
    () => m.forward(null, new T.Tensor(Int32Array.from([4]), [1])),
    /label 4 is outside \[0, 4\)/,
  );
  assert.throws(
    () => m.forward(new T.Tensor(Int32Array.from([0]), [1, 1]), null),
    /needs a KV cache/,
  );
  assert.throws(() => gptConfig(null, { block_size: 10 }), /not a square grid/);
  assert.throws(
    () => m.forward(null, new T.Tensor(Int32Array.from([1]), [1]), { cache: m.newCache(1) }),
    /T.noGrad/,
  );
});
