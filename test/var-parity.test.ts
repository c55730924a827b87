// VAR parity with the official PyTorch outputs (shared fixtures var_vqvae and var_teacher), and
// an end-to-end run: a random-weight small VAR samples a batch with CFG, top-k and top-p, a
// small VQVAE decodes it, and a PNG grid is written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPng } from '../src/io/png.js';
import { findFixturesDir } from '../src/io/testing.js';
import { writeImageGrid } from '../src/io/image.js';
import { Rng } from '../src/tensor/index.js';
import { varConfigFromJson, vqvaeConfigFromJson } from '../src/models/var/config.js';
import { checkVarTeacherFixture, checkVarVqvaeFixture } from '../src/models/var/fixture.js';
import { formatRows } from '../src/models/fixture-report.js';
import { sampleImages } from '../src/models/var/generate.js';
import { randomInit_ } from '../src/nn/init.js';
import { VAR } from '../src/models/var/var.js';
import { VQVAE } from '../src/models/var/vqvae.js';

const fixtures = findFixturesDir();

for (const [kind, check, min] of [
  ['var_vqvae', checkVarVqvaeFixture, 20],
  ['var_teacher', checkVarTeacherFixture, 20],
] as const) {
  const dir = fixtures ? join(fixtures, kind) : null;
  test(
    `fixture ${kind}: every recorded output matches the official code`,
    { skip: dir && existsSync(dir) ? false : 'shared fixtures not found' },
    () => {
      const rows = check(dir as string);
      assert.ok(rows.length >= min, `only ${rows.length} checks ran`);
      assert.deepEqual(formatRows(rows.filter((r) => !r.pass)), '', formatRows(rows));
    },
  );
}

test('end to end: small random VAR + VQVAE sample with CFG/top-k/top-p and write a PNG grid', () => {
  const model = randomInit_(
    new VAR(
      varConfigFromJson({
        depth: 2,
        embed_dim: 64,
        num_heads: 4,
        num_classes: 10,
        patch_nums: [1, 2, 3, 4],
        vocab_size: 64,
        Cvae: 8,
      }),
    ),
    new Rng(1),
  );
  const vae = randomInit_(
    new VQVAE(
      vqvaeConfigFromJson({
        vocab_size: 64,
        z_channels: 8,
        ch: 32,
        encoder_ch_mult: [1, 1],
        decoder_ch_mult: [2, 1],
        num_res_blocks: 1,
        v_patch_nums: [1, 2, 3, 4],
      }),
    ),
    new Rng(2),
  );
  const labels = Int32Array.from([0, 3, 7, 10]);
  const run = () =>
    sampleImages(model, vae, { labels, cfg: 1.5, topK: 20, topP: 0.96, rng: new Rng(0) });
  const a = run();
  assert.deepEqual(a.images.shape, [4, 3, 8, 8]);
  assert.deepEqual(a.images.toArray(), run().images.toArray());
  const dir = mkdtempSync(join(tmpdir(), 'ddar-var-'));
  try {
    const out = join(dir, 'grid.png');
    writeImageGrid(out, a.images, { nrow: 2 });
    const png = readPng(out);
    assert.equal(png.width, 2 * (8 + 2) + 2);
    assert.equal(png.height, 2 * (8 + 2) + 2);
    assert.ok(png.data.some((x) => x > 0 && x < 255));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ddar sample var: help, usage errors and unreadable checkpoints give exit codes, not stacks', async () => {
  const { sampleVar } = await import('../src/cli/commands/sample-var.js');
  const quiet = <R>(f: () => Promise<R>): Promise<R> => {
    const [log, err] = [console.log, console.error];
    console.log = console.error = () => undefined;
    return f().finally(() => {
      console.log = log;
      console.error = err;
    });
  };
  assert.equal(await quiet(() => sampleVar(['--help'])), 0);
  assert.equal(await quiet(() => sampleVar(['--vae', 'x.pth'])), 2);
  assert.equal(
    await quiet(() => sampleVar(['--var', 'a.pth', '--vae', 'b.pth', '--top-k', 'many'])),
    2,
  );
  assert.equal(
    await quiet(() =>
      sampleVar(['--var', '/nonexistent/var_d16.pth', '--vae', '/nonexistent/vae.pth']),
    ),
    1,
  );
});
