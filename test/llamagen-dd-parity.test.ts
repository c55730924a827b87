// LlamaGen DD student parity with the official PyTorch outputs (shared fixture llamagen_dd,
// decoded through llamagen_vq), and an end-to-end run: a random-weight small student samples a
// batch in 1 step and in 2 steps, a small VQ decodes it, a PNG grid is written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFixturesDir } from '../src/io/testing.js';
import { writeImageGrid } from '../src/io/image.js';
import { Rng } from '../src/tensor/index.js';
import * as T from '../src/tensor/index.js';
import { formatCheckLine } from '../src/models/fixture-report.js';
import { validateVqConfig, VQ_16 } from '../src/models/llamagen/config.js';
import { VQModel } from '../src/models/llamagen/vq.js';
import { normal_ } from '../src/nn/init.js';
import { checkLlamagenDDFixture } from '../src/dd/students/llamagen/fixture.js';
import { ddConfig } from '../src/dd/students/llamagen/config.js';
import { DDTransformer, randomizeDD } from '../src/dd/students/llamagen/student.js';
import { toLatent } from '../src/dd/students/llamagen/predict.js';
import { sampleFewStep, type StepTrace } from '../src/dd/students/llamagen/sample.js';
import { sampleLlamagenDD } from '../src/cli/commands/sample-llamagen-dd.js';
import { batchNoise } from '../src/dd/noise.js';

const fixtures = findFixturesDir();
const dir = fixtures ? join(fixtures, 'llamagen_dd') : null;

test(
  'fixture llamagen_dd: every recorded output matches the official code',
  { skip: dir && existsSync(dir) ? false : 'shared fixtures not found' },
  () => {
    const r = checkLlamagenDDFixture(dir as string);
    assert.ok(r.lines.length >= 30, `only ${r.lines.length} checks ran`);
    for (const must of ['t0_logits', 't5_fp_logits', 'run_step1_x', 'run_decoded', 'run_samples01'])
      assert.ok(
        r.lines.some((l) => l.name === must),
        `no check of ${must}`,
      );
    assert.deepEqual(
      r.lines.filter((l) => !l.pass).map((l) => formatCheckLine(l)),
      [],
    );
  },
);

test('end to end: random small student, 1 and 2 steps, decoded by a small VQ into a PNG grid', () => {
  const V = 64;
  const c = 8;
  const model = randomizeDD(
    new DDTransformer(
      ddConfig(null, {
        dim: 64,
        n_layer: 2,
        n_head: 4,
        n_kv_head: 2,
        vocab_size: V,
        block_size: 64,
        num_classes: 10,
        codebook_dim: c,
      }),
    ),
    new Rng(3),
  );
  const vq = new VQModel(
    validateVqConfig({
      ...VQ_16,
      codebook_size: V,
      ch: 32,
      num_res_blocks: 1,
      encoder_ch_mult: [1, 1],
      decoder_ch_mult: [2, 1],
      z_channels: 16,
      codebook_show_usage: false,
    }),
  );
  const rng = new Rng(7);
  for (const [, t] of vq.namedParameters()) {
    if (t.rank < 2) continue;
    normal_(t, 1 / Math.sqrt(t.size / (t.shape[0] as number)), rng);
  }
  const codebook = vq.quantize.codebook();
  const labels = Int32Array.from([1, 3, 5, 9]);
  const noise = batchNoise(0, 4, 64 * c);
  const traces: StepTrace[] = [];
  const one = sampleFewStep(model, labels, { tList: [0], splitT: 20, noise, codebook });
  const two = sampleFewStep(model, labels, {
    tList: [0, 20],
    splitT: 20,
    noise,
    codebook,
    onStep: (s) => traces.push(s),
  });
  assert.deepEqual(one.shape, [4, 64, c]);
  assert.deepEqual(
    traces.map((s) => s.t),
    [0, 20],
  );
  assert.deepEqual(
    Array.from((traces[0] as StepTrace).x),
    Array.from(one.data),
    'step 0 of the 2-step run is the 1-step result',
  );
  // Step 1 keeps the step-0 prefix (positions < 20, codebook rows) and re-uses ε after it.
  const s1 = traces[1] as StepTrace;
  for (let i = 0; i < 4 * 64 * c; i++) {
    const j = Math.floor(i / c) % 64;
    assert.equal(s1.xT[i], j < 20 ? one.data[i] : noise[i]);
    if (j < 20) assert.equal(two.data[i], one.data[i]);
  }
  let changed = 0;
  for (let i = 0; i < two.size; i++) if (two.data[i] !== one.data[i]) changed++;
  assert.ok(changed > 0, 'the second step changes the suffix');

  const images = T.noGrad(() => vq.decode(toLatent(T.concat([one, two], 0))));
  assert.deepEqual(images.shape, [8, 3, 16, 16]);
  for (const v of images.data) assert.ok(Number.isFinite(v));
  const out = mkdtempSync(join(tmpdir(), 'ddar-llamagen-dd-'));
  try {
    const path = join(out, 'grid.png');
    writeImageGrid(path, images, { nrow: 4, convention: 'llamagen' });
    const png = readFileSync(path);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test(
  'ddar sample llamagen-dd: the fixture student (+ teacher) through the CLI writes a PNG grid',
  { skip: fixtures && dir && existsSync(dir) ? false : 'shared fixtures not found' },
  async () => {
    const F = fixtures as string;
    const out = mkdtempSync(join(tmpdir(), 'ddar-dd-cli-'));
    try {
      const common = [
        '--dd',
        join(F, 'llamagen_dd', 'weights.pt'),
        '--vq',
        join(F, 'llamagen_vq', 'weights.safetensors'),
        '--config',
        join(F, 'llamagen_dd', 'config.json'),
        '--vq-config',
        join(F, 'llamagen_vq', 'config.json'),
        '--split-t',
        '6',
        '--classes',
        '5,1,2',
        '--batch',
        '2',
      ];
      const a = join(out, 'a.png');
      assert.equal(await sampleLlamagenDD([...common, '--steps', '0,5', '--out', a]), 0);
      assert.deepEqual([...readFileSync(a).subarray(1, 4)], [0x50, 0x4e, 0x47]);
      const b = join(out, 'b.png');
      const teacher = [
        '--teacher',
        join(F, 'llamagen_gpt', 'weights.safetensors'),
        '--teacher-start',
        '3',
        '--top-k',
        '8',
      ];
      assert.equal(
        await sampleLlamagenDD([...common, '--steps', '0,5', ...teacher, '--out', b]),
        0,
      );
      assert.ok(readFileSync(b).length > 50);
      assert.equal(
        await sampleLlamagenDD([...common, '--steps', '0', ...teacher, '--out', b]),
        2,
        'teacher mode needs t0,t1',
      );
      assert.equal(await sampleLlamagenDD(['--steps', '5,0', '--random']), 2, 'descending steps');
      assert.equal(
        await sampleLlamagenDD(['--dd', join(out, 'missing.pt'), '--vq', join(out, 'missing.pt')]),
        1,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
