// Dataset generation: determinism per sample, sharding, resume after interruption with
// byte-identical files, merge/verify, and that flow-mapped sequences follow the teacher.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectShards, mergeShards, runDatagen, verifyDataset, type DatagenConfig } from '../src/dd/datagen.js';
import { openDataset } from '../src/dd/dataset.js';
import { MarkovTeacher } from './helpers/markov-teacher.js';

const cfg: DatagenConfig = {
  seed: 5,
  numSamples: 11,
  chunkSize: 3,
  batchSize: 2,
  storeNoise: 'none',
  flow: { steps: 8, solver: 'heun', grid: 'quadratic' },
};
const teacher = () => new MarkovTeacher(3, 6, 4, 2, 1);
const tmp = () => mkdtempSync(join(tmpdir(), 'ddar-datagen-'));

function filesOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(rel + e.name, readFileSync(join(d, e.name)).toString('base64'));
    }
  };
  walk(dir, '');
  return out;
}

test('sharded runs equal one run; an interrupted run resumes to byte-identical files', () => {
  const whole = tmp();
  const split = tmp();
  const interrupted = tmp();
  try {
    runDatagen(teacher(), 'abc', cfg, { index: 0, count: 1 }, whole);
    const one = openDataset(whole).readChunk(0);
    // two shards with another batch size give the same samples
    for (const k of [0, 1]) runDatagen(teacher(), 'abc', { ...cfg, batchSize: 3 }, { index: k, count: 2 }, split);
    const a = collectShards(whole);
    const b = collectShards(split);
    assert.equal(b.numSamples, 11);
    const tokA = a.chunks.map((_, i) => Array.from(openDataset(whole).readChunk(i).tokens)).flat();
    const tokB = b.chunks.map((_, i) => Array.from(openDataset(split).readChunk(i).tokens)).flat();
    assert.deepEqual(tokB, tokA);
    assert.equal(one.tokens.length, 3 * 4);
    // interrupt after the second chunk, leave a stray temp file and an unlisted chunk, resume
    let chunksSeen = 0;
    assert.throws(() =>
      runDatagen(teacher(), 'abc', cfg, { index: 0, count: 1 }, interrupted, (p) => {
        if (p.done > 0 && ++chunksSeen === 2) throw new Error('killed');
      }),
    /killed/);
    writeFileSync(join(interrupted, 'shard-00000-of-00001', 'chunk-0000000006.safetensors'), 'partial garbage');
    runDatagen(teacher(), 'abc', cfg, { index: 0, count: 1 }, interrupted);
    assert.deepEqual(filesOf(interrupted), filesOf(whole));
    // a different config in the same folder is refused
    assert.throws(() => runDatagen(teacher(), 'abc', { ...cfg, seed: 6 }, { index: 0, count: 1 }, whole), /other settings/);
  } finally {
    for (const d of [whole, split, interrupted]) rmSync(d, { recursive: true, force: true });
  }
});

test('merge builds the index; verify catches corruption and missing shards', () => {
  const dir = tmp();
  try {
    runDatagen(teacher(), 'abc', cfg, { index: 0, count: 2 }, dir);
    assert.throws(() => mergeShards(dir), /shard 1\/2 is missing/);
    runDatagen(teacher(), 'abc', cfg, { index: 1, count: 2 }, dir);
    const idx = mergeShards(dir);
    assert.equal(idx.numSamples, 11);
    assert.deepEqual(verifyDataset(dir, true).problems, []);
    const first = join(dir, idx.chunks[0]!.path);
    const bytes = readFileSync(first);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    writeFileSync(first, bytes);
    assert.match(verifyDataset(dir).problems.join('\n'), /sha256 differs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stored noise equals regenerated noise; classes and noise follow the per-sample layout', () => {
  const a = tmp();
  const b = tmp();
  try {
    runDatagen(teacher(), 'abc', cfg, { index: 0, count: 1 }, a);
    runDatagen(teacher(), 'abc', { ...cfg, storeNoise: 'f32' }, { index: 0, count: 1 }, b);
    const ca = openDataset(a).readChunk(1);
    const cb = openDataset(b).readChunk(1);
    assert.deepEqual(ca.noise, cb.noise);
    assert.deepEqual(ca.tokens, cb.tokens);
    assert.deepEqual(Array.from(ca.sample), [3, 4, 5]);
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

test('flow-mapped sequences follow the teacher joint distribution', () => {
  // V = 3 tokens, L = 3 positions, 1 class: 27 sequences, 3000 samples (χ² with merged bins).
  const t = new MarkovTeacher(1, 3, 3, 2, 2);
  const dir = tmp();
  try {
    runDatagen(t, 'abc', { ...cfg, numSamples: 3000, chunkSize: 1000, batchSize: 500, flow: { steps: 16, solver: 'heun', grid: 'quadratic' } }, { index: 0, count: 1 }, dir);
    const ds = openDataset(dir);
    const counts = new Float64Array(27);
    for (let c = 0; c < 3; c++) {
      const tok = ds.readChunk(c).tokens;
      for (let i = 0; i < tok.length / 3; i++) counts[tok[3 * i]! * 9 + tok[3 * i + 1]! * 3 + tok[3 * i + 2]!]! += 1;
    }
    let chi = 0;
    let dof = -1;
    for (let s = 0; s < 27; s++) {
      const e = 3000 * t.prob(0, [Math.floor(s / 9), Math.floor(s / 3) % 3, s % 3]);
      if (e < 5) continue;
      chi += (counts[s]! - e) ** 2 / e;
      dof++;
    }
    assert.ok(chi / dof < 2, `χ²/dof = ${(chi / dof).toFixed(2)} over ${dof} dof`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
