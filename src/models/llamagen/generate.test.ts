import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../tensor/index.js';
import { gptConfig } from './config.js';
import { Transformer, randomizeGpt } from './gpt.js';
import { generate, sampleTokens } from './generate.js';

const model = randomizeGpt(
  new Transformer(
    gptConfig(null, {
      dim: 32,
      n_layer: 2,
      n_head: 2,
      vocab_size: 16,
      block_size: 16,
      num_classes: 4,
    }),
  ),
  new T.Rng(2),
);
const labels = new T.Tensor(Int32Array.from([0, 3]), [2]);

test('sampleTokens: top-k 1 is greedy; temperature and filters come from the config', () => {
  const logits = Float32Array.from([0, 5, 1, 2, /* row 2 */ 3, 0, 0, 3.5]);
  const ids = sampleTokens(logits, 2, 4, { cfgScale: 1, topK: 1 }, new T.Rng(0));
  assert.deepEqual(Array.from(ids), [1, 3]);
});

test('generate: forced choices see CFG logits; cfgInterval switches guidance off after step q+1', () => {
  const forced = Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 16);
  const run = (cfgScale: number, cfgInterval: number) => {
    const seen: Float32Array[] = [];
    const out = generate(model, labels, {
      cfgScale,
      cfgInterval,
      rng: new T.Rng(0),
      choose: (l, s) => {
        seen.push(l.slice());
        return Int32Array.from([forced[s] as number, forced[16 + s] as number]);
      },
    });
    assert.deepEqual(Array.from(out.data), Array.from(forced));
    return seen;
  };
  const guided = run(2, -1);
  const interval = run(2, 0);
  const plain = run(1, -1);
  const diff = (a: Float32Array, b: Float32Array) =>
    a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);
  assert.equal(diff(guided[1] as Float32Array, interval[1] as Float32Array), 0); // tokens 0 and 1 guided
  assert.ok(diff(guided[2] as Float32Array, interval[2] as Float32Array) > 1e-3);
  for (let s = 2; s < 16; s++)
    assert.ok(diff(interval[s] as Float32Array, plain[s] as Float32Array) < 1e-5, `step ${s}`);
});

test('generate: seeded, prefix-preserving, and the token budget is checked', () => {
  const opts = { cfgScale: 1.5, topK: 8, topP: 0.9, temperature: 0.8 };
  const a = generate(model, labels, { ...opts, rng: new T.Rng(11) });
  const b = generate(model, labels, { ...opts, rng: new T.Rng(11) });
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
  const prefix = T.narrow(a, 1, 0, 6);
  const c = generate(model, labels, { ...opts, rng: new T.Rng(12), prefix });
  assert.deepEqual(c.shape, [2, 16]);
  for (let bi = 0; bi < 2; bi++)
    for (let i = 0; i < 6; i++) assert.equal(c.data[bi * 16 + i], a.data[bi * 16 + i]);
  assert.throws(
    () => generate(model, labels, { ...opts, rng: new T.Rng(0), maxNewTokens: 17 }),
    /do not fit/,
  );
  const cache = model.newCache(4);
  const d = generate(model, labels, { ...opts, rng: new T.Rng(11), cache });
  assert.deepEqual(Array.from(d.data), Array.from(a.data), 'a reused cache gives the same result');
});
