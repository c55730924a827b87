// LlamaGen parity with the official PyTorch outputs (shared fixtures llamagen_gpt and
// llamagen_vq), and an end-to-end run: a random-weight small GPT samples a batch with CFG,
// a small VQ decodes it, a PNG grid is written; memory stays flat over the decode steps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { findFixturesDir } from '../src/io/testing.js';
import type { Backend } from '../src/backend/kernels.js';
import { kernels, referenceBackend, setBackend } from '../src/backend/registry.js';
import { loadNativeBackend } from '../src/backend/native/index.js';
import { writeImageGrid } from '../src/io/image.js';
import { Rng, Tensor } from '../src/tensor/index.js';
import { checkLlamagenGptFixture, checkLlamagenVqFixture } from '../src/models/llamagen/fixture.js';
import { formatCheckLine } from '../src/models/fixture-report.js';
import { gptConfig, validateVqConfig, VQ_16 } from '../src/models/llamagen/config.js';
import { Transformer, randomizeGpt } from '../src/models/llamagen/gpt.js';
import { VQModel } from '../src/models/llamagen/vq.js';
import { decodeTokens, generate } from '../src/models/llamagen/generate.js';
import { normal_ } from '../src/nn/init.js';

const fixtures = findFixturesDir();

const backends: Backend[] = [referenceBackend()];
const native = loadNativeBackend();
if (native) backends.push(native);

for (const backend of backends) {
  for (const [kind, check] of [
    ['llamagen_gpt', checkLlamagenGptFixture],
    ['llamagen_vq', checkLlamagenVqFixture],
  ] as const) {
    const dir = fixtures ? join(fixtures, kind) : null;
    test(
      `fixture ${kind} on ${backend.name}: every recorded output matches the official code`,
      { skip: dir && existsSync(dir) ? false : 'shared fixtures not found' },
      () => {
        const prev = kernels();
        setBackend(backend);
        try {
          const r = check(dir as string);
          assert.ok(r.lines.length >= 8, `only ${r.lines.length} checks ran`);
          const failed = r.lines.filter((l) => !l.pass);
          assert.deepEqual(
            failed.map((l) => formatCheckLine(l)),
            [],
          );
        } finally {
          setBackend(prev);
        }
      },
    );
  }
}

function gcNow(): () => void {
  setFlagsFromString('--expose_gc');
  const gc: unknown = runInNewContext('gc');
  if (typeof gc !== 'function') throw new Error('gc not available');
  return () => {
    gc();
  };
}

test('end to end: small random GPT + VQ sample a batch with CFG and write a PNG grid; memory stays flat', () => {
  const gpt = randomizeGpt(
    new Transformer(
      gptConfig(null, {
        dim: 64,
        n_layer: 2,
        n_head: 4,
        n_kv_head: 2,
        vocab_size: 64,
        block_size: 64,
        num_classes: 10,
      }),
    ),
    new Rng(1),
  );
  const vq = new VQModel(
    validateVqConfig({
      ...VQ_16,
      codebook_size: 64,
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
    if (!t.rank || t.rank === 1) continue;
    normal_(t, 1 / Math.sqrt(t.size / (t.shape[0] as number)), rng);
  }
  const gc = gcNow();
  const mem: { heap: number; ab: number }[] = [];
  const labels = new Tensor(Int32Array.from([1, 3, 5, 9]), [4]);
  const sample = (seed: number, record: boolean) =>
    generate(gpt, labels, {
      cfgScale: 2,
      topK: 16,
      topP: 0.95,
      temperature: 1,
      rng: new Rng(seed),
      onStep: (done) => {
        if (record && (done === 8 || done === 64)) {
          gc();
          const m = process.memoryUsage();
          mem.push({ heap: m.heapUsed, ab: m.arrayBuffers });
        }
      },
    });
  const tokens = sample(0, true);
  assert.deepEqual(tokens.shape, [4, 64]);
  for (const t of tokens.data) assert.ok(t >= 0 && t < 64);
  assert.deepEqual(
    Array.from(sample(0, false).data),
    Array.from(tokens.data),
    'the same seed gives the same tokens',
  );
  assert.notDeepEqual(
    Array.from(sample(1, false).data),
    Array.from(tokens.data),
    'another seed gives other tokens',
  );
  const [a, b] = mem as [{ heap: number; ab: number }, { heap: number; ab: number }];
  assert.ok(b.heap - a.heap < 2e6, `heap grew by ${b.heap - a.heap} bytes over 56 decode steps`);
  assert.ok(b.ab - a.ab < 1e6, `array buffers grew by ${b.ab - a.ab} bytes over 56 decode steps`);

  const images = decodeTokens(vq, tokens);
  assert.deepEqual(images.shape, [4, 3, 16, 16]);
  for (const v of images.data) assert.ok(Number.isFinite(v));
  const dir = mkdtempSync(join(tmpdir(), 'ddar-llamagen-'));
  try {
    const path = join(dir, 'grid.png');
    writeImageGrid(path, images, { nrow: 2, convention: 'llamagen' });
    const png = readFileSync(path);
    assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47]); // "PNG"
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'ddar check-fixture: exit 0 on the llamagen fixtures, 2 for an unsupported kind or a bad folder',
  { skip: fixtures ? false : 'shared fixtures not found' },
  async () => {
    const { run } = await import('../src/cli/commands/check-fixture.js');
    const log = console.log;
    const err = console.error;
    const out: string[] = [];
    console.log = (s: string) => out.push(s);
    console.error = (s: string) => out.push(s);
    try {
      assert.equal(await run([join(fixtures as string, 'llamagen_gpt')]), 0);
      assert.equal(await run([join(fixtures as string, 'llamagen_vq')]), 0);
      const odd = mkdtempSync(join(tmpdir(), 'ddar-kind-'));
      writeFileSync(join(odd, 'config.json'), JSON.stringify({ kind: 'made_up_kind' }));
      assert.equal(await run([odd]), 2);
      rmSync(odd, { recursive: true, force: true });
      assert.equal(await run([join(tmpdir(), 'no-such-fixture-dir')]), 2);
    } finally {
      console.log = log;
      console.error = err;
    }
    assert.ok(
      out.some((l) => /^kv_logits\s+\S+\s+\S+\s+PASS/.test(l)),
      out.join('\n'),
    );
    assert.ok(out.some((l) => l.startsWith('kind made_up_kind is not supported yet')));
  },
);
