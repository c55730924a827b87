// Issue 5, at the real size: a random-weight GPT-B samples a batch of 2 full 256-token images
// with CFG (KV cache, top-k 8000) and a random-weight VQ-16 decodes them to a 256×256 PNG grid;
// memory stays flat over the 256 decode steps. Native backend only (the reference kernels
// would take minutes); skipped without the addon.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { kernels } from '../src/backend/registry.js';
import { selectBackend } from '../src/backend/select.js';
import { writeImageGrid } from '../src/io/image.js';
import { readPng } from '../src/io/png.js';
import { gptConfig } from '../src/models/llamagen/config.js';
import { decodeTokens, generate } from '../src/models/llamagen/generate.js';
import { Transformer, randomizeGpt } from '../src/models/llamagen/gpt.js';
import { VQModel } from '../src/models/llamagen/vq.js';
import { normal_ } from '../src/nn/init.js';
import { Rng, Tensor } from '../src/tensor/index.js';

selectBackend(undefined);

test('GPT-B + VQ-16 (random weights): 256 tokens with CFG, decoded to a PNG grid, flat memory', { skip: kernels().name !== 'native', timeout: 300_000 }, () => {
  const gpt = randomizeGpt(new Transformer(gptConfig('GPT-B')), new Rng(1));
  const vq = new VQModel();
  const rng = new Rng(2);
  for (const [, t] of vq.namedParameters()) if (t.rank > 1) normal_(t, 1 / Math.sqrt(t.size / (t.shape[0] as number)), rng);
  setFlagsFromString('--expose_gc');
  const gc = runInNewContext('gc') as () => void;
  const mem: { step: number; heap: number; ab: number; rss: number }[] = [];
  const tokens = generate(gpt, new Tensor(Int32Array.from([207, 360]), [2]), {
    cfgScale: 2,
    topK: 8000,
    topP: 1,
    temperature: 1,
    rng: new Rng(0),
    onStep: (done) => {
      if (done === 16 || done === 256) {
        gc();
        const m = process.memoryUsage();
        mem.push({ step: done, heap: m.heapUsed, ab: m.arrayBuffers, rss: m.rss });
      }
    },
  });
  assert.deepEqual(tokens.shape, [2, 256]);
  for (const t of tokens.data) assert.ok(t >= 0 && t < 16384);
  const [a, b] = mem as [(typeof mem)[0], (typeof mem)[0]];
  assert.ok(b.heap - a.heap < 4e6, `heap grew by ${b.heap - a.heap} bytes from step 16 to 256`);
  assert.ok(b.ab - a.ab < 4e6, `array buffers grew by ${b.ab - a.ab} bytes from step 16 to 256`);
  const images = decodeTokens(vq, tokens);
  assert.deepEqual(images.shape, [2, 3, 256, 256]);
  for (const v of images.data) assert.ok(Number.isFinite(v));
  const dir = mkdtempSync(join(tmpdir(), 'ddar-gptb-'));
  try {
    const path = join(dir, 'grid.png');
    writeImageGrid(path, images, { nrow: 2, labels: ['207', '360'] });
    const png = readPng(path);
    assert.ok(png.width >= 512 && png.height >= 256, `grid is ${png.width}×${png.height}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
