// Issue 9, at the real size: a random-weight VAR-d16 with a random-weight VQVAE (ch 160,
// V 4096) samples all 10 scales with CFG, top-k 900 and top-p 0.96, and the decoded 256×256
// images are written as a PNG grid. Native backend only (skipped without the addon).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kernels } from '../src/backend/registry.js';
import { selectBackend } from '../src/backend/select.js';
import { writeImageGrid } from '../src/io/image.js';
import { readPng } from '../src/io/png.js';
import { VQVAE_CH160V4096Z32, varPreset } from '../src/models/var/config.js';
import { sampleImages } from '../src/models/var/generate.js';
import { randomInit_ } from '../src/nn/init.js';
import { VAR } from '../src/models/var/var.js';
import { VQVAE } from '../src/models/var/vqvae.js';
import { Rng } from '../src/tensor/index.js';

selectBackend(undefined);

test('VAR-d16 + VQVAE (random weights): 10 scales with CFG, decoded to a PNG grid', { skip: kernels().name !== 'native', timeout: 300_000 }, () => {
  const model = randomInit_(new VAR(varPreset(16)), new Rng(0), { fast: true });
  const vae = randomInit_(new VQVAE(VQVAE_CH160V4096Z32), new Rng(1), { fast: true });
  const { images, result } = sampleImages(model, vae, { labels: Int32Array.from([207, 360]), cfg: 2, topK: 900, topP: 0.96, rng: new Rng(3) });
  assert.equal(result.idx.length, 10);
  assert.deepEqual(result.idx.map((ix) => ix.length), [1, 4, 9, 16, 25, 36, 64, 100, 169, 256].map((n) => 2 * n));
  for (const ix of result.idx) for (const v of ix) assert.ok(v >= 0 && v < 4096);
  assert.deepEqual(images.shape, [2, 3, 256, 256]);
  for (const v of images.data) assert.ok(Number.isFinite(v) && v >= -1 && v <= 1);
  const dir = mkdtempSync(join(tmpdir(), 'ddar-var-d16-'));
  try {
    const path = join(dir, 'grid.png');
    writeImageGrid(path, images, { nrow: 2, labels: ['207', '360'], convention: 'var' });
    const png = readPng(path);
    assert.ok(png.width >= 512 && png.height >= 256, `grid is ${png.width}×${png.height}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
