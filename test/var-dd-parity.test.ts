// VAR DD student parity with the official PyTorch outputs (shared fixture var_dd: forward at
// every recorded timestep, final_predict, get_final_sequence and the recorded full 2-step
// sampling run decoded by the var_vqvae VQVAE), and an end-to-end run: a random-weight small
// student samples 1-step and 2-step batches, a small VQVAE decodes them, and a PNG grid is
// written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeImageGrid } from '../src/io/image.js';
import { readPng } from '../src/io/png.js';
import { findFixturesDir } from '../src/io/testing.js';
import * as T from '../src/tensor/index.js';
import { formatRows } from '../src/models/fixture-report.js';
import { checkVarDDFixture } from '../src/dd/students/var/fixture.js';
import { decodeVarDD, sampleVarDD } from '../src/dd/students/var/sample.js';
import { smallStudent, smallVae } from '../src/dd/students/var/testing.js';
import { sampleVarDD as sampleVarDDCommand } from '../src/cli/commands/sample-var-dd.js';
import { batchNoise } from '../src/dd/noise.js';

const fixtures = findFixturesDir();
const dir = fixtures ? join(fixtures, 'var_dd') : null;

test(
  'fixture var_dd: every recorded output matches the official code',
  { skip: dir && existsSync(dir) ? false : 'shared fixtures not found' },
  () => {
    const rows = checkVarDDFixture(dir as string);
    assert.ok(rows.length >= 30, `only ${rows.length} checks ran`);
    assert.deepEqual(formatRows(rows.filter((r) => !r.pass)), '', formatRows(rows));
  },
);

test('end to end: small random VAR-DD student, 1-step and 2-step, decoded into a PNG grid', () => {
  const student = smallStudent(21);
  const vae = smallVae(22);
  const labels = Int32Array.from([0, 3, 7, 9]);
  const noise = new T.Tensor(batchNoise(0, labels.length, student.L * student.config.Cvae), [labels.length, student.L, student.config.Cvae]);
  const one = sampleVarDD(student, vae.quantize, { labels, tList: [0], splitT: 2, noise });
  const two = sampleVarDD(student, vae.quantize, { labels, tList: [0, 2], splitT: 2, noise });
  const imgs = T.concat([decodeVarDD(vae, one), decodeVarDD(vae, two)], 0);
  assert.deepEqual(imgs.shape, [8, 3, 8, 8]);
  assert.ok(imgs.data.every((v) => v >= -1 && v <= 1));
  // The second step keeps the greedy scales < 2 (5 tokens) and regenerates the rest.
  assert.deepEqual([...two.tokens.data.slice(0, 5 * 8)], [...one.tokens.data.slice(0, 5 * 8)]);
  assert.notDeepEqual([...two.tokens.data], [...one.tokens.data]);
  const out = mkdtempSync(join(tmpdir(), 'ddar-var-dd-'));
  try {
    const path = join(out, 'grid.png');
    writeImageGrid(path, imgs, { nrow: 4, labels: ['1-step', '', '', '', '2-step', '', '', ''] });
    const png = readPng(path);
    assert.equal(png.width, 4 * (8 + 2) + 2);
    assert.ok(png.data.some((x) => x > 0 && x < 255));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test(
  'CLI sampleVarDD: fixture weights (trainer wrapping), 2-step and teacher-involved, PNG written',
  { skip: dir && existsSync(dir) ? false : 'shared fixtures not found' },
  async () => {
    const fx = fixtures as string;
    const out = mkdtempSync(join(tmpdir(), 'ddar-var-dd-cli-'));
    const common = [
      '--vae',
      join(fx, 'var_vqvae', 'weights.safetensors'),
      '--config',
      join(fx, 'var_dd', 'config.json'),
      '--vae-config',
      join(fx, 'var_vqvae', 'config.json'),
      '--classes',
      '1,2,3',
      '--batch',
      '2',
    ];
    try {
      const a = join(out, 'a.png');
      assert.equal(
        await sampleVarDDCommand([
          '--dd',
          join(fx, 'var_dd', 'weights.pt'),
          ...common,
          '--steps',
          '0,2',
          '--split-t',
          '2',
          '--out',
          a,
        ]),
        0,
      );
      assert.equal(readPng(a).width, 3 * (8 + 2) + 2);
      const b = join(out, 'b.png');
      const teacher = [
        '--teacher',
        join(fx, 'var_teacher', 'weights.safetensors'),
        '--teacher-start',
        '2',
      ];
      assert.equal(
        await sampleVarDDCommand([
          '--dd',
          join(fx, 'var_dd', 'weights.safetensors'),
          ...common,
          '--steps',
          '0,3',
          ...teacher,
          '--out',
          b,
        ]),
        0,
      );
      assert.ok(existsSync(b));
      assert.equal(
        await sampleVarDDCommand([
          '--dd',
          join(fx, 'var_dd', 'weights.pt'),
          ...common,
          '--teacher-start',
          '2',
        ]),
        2,
      );
      assert.equal(
        await sampleVarDDCommand([
          '--dd',
          join(fx, 'var_dd', 'weights.pt'),
          ...common,
          '--steps',
          '0,7',
          '--out',
          b,
        ]),
        1,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
