import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PATCH_NUMS_256 } from '../../../models/var/config.js';
import {
  concatPos,
  dataTokens,
  ddSchedule,
  defaultSplitT,
  noiseMask,
  studentMask,
  varDDConfigFromJson,
  varDDPreset,
} from './config.js';

test('256 px schedule: accum, concat positions, data tokens and mask count of var-dd.md §7', () => {
  const s = ddSchedule(PATCH_NUMS_256);
  assert.equal(s.slots, 681);
  assert.deepEqual(s.accum, [681, 680, 679, 675, 666, 650, 625, 589, 525, 425, 256, 0]);
  assert.deepEqual(
    [4, 5, 8, 9].map((k) => concatPos(s, k)),
    [30, 55, 255, 424],
  );
  assert.equal(concatPos(s, 10), 680);
  assert.equal(concatPos(s, 0), 0);
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((t) => dataTokens(s, t)),
    [0, 1, 5, 14, 30, 55, 91, 155, 255, 424],
  );
  assert.equal(studentMask(s).filter((v) => v === 0).length, 177327);
  assert.deepEqual([...s.level.slice(0, 7)], [0, 1, 2, 2, 2, 2, 3]);
  assert.equal(s.level[680], 10);
});

test('small scale list (1, 2, 3, 4): accum and noise-mask rows', () => {
  const s = ddSchedule([1, 2, 3, 4]);
  assert.deepEqual(s.accum, [31, 30, 29, 25, 16, 0]);
  const m = noiseMask(s);
  for (const [t, start] of [0, 1, 5, 14].entries()) {
    const row = [...m.slice(t * 30, (t + 1) * 30)];
    assert.equal(row.indexOf(1), start);
    assert.equal(row.filter((v) => v === 1).length, 30 - start);
  }
});

test('the student mask: a token sees strictly earlier levels and itself, never its siblings', () => {
  const s = ddSchedule([1, 2, 3]);
  const n = s.slots;
  const m = studentMask(s);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const li = s.level[i] as number;
      const lj = s.level[j] as number;
      assert.equal(m[i * n + j] === 0, lj < li || i === j, `(${i}, ${j})`);
    }
  }
});

test('invalid timesteps and split_t name the valid range', () => {
  const s = ddSchedule([1, 2, 3, 4]);
  assert.throws(() => dataTokens(s, 4), /outside \[0, 3\]/);
  assert.throws(() => dataTokens(s, -1), /outside/);
  assert.throws(() => concatPos(s, 5), /split_t 5 is outside \[0, 4\]/);
});

test('presets and config.json', () => {
  const p = varDDPreset(16);
  assert.equal(p.embed_dim, 1024);
  assert.equal(p.num_heads, 16);
  assert.ok(p.n_d_embed_enable && p.layerwise_n_d_embed);
  assert.equal(defaultSplitT(16), 5);
  assert.equal(defaultSplitT(20), 4);
  const c = varDDConfigFromJson({
    depth: 2,
    embed_dim: 64,
    num_heads: 4,
    layerwise_n_d_embed: false,
  });
  assert.equal(c.layerwise_n_d_embed, false);
  assert.throws(
    () => varDDConfigFromJson({ depth: 2, embed_dim: 64, num_heads: 4, n_d_embed_enable: false }),
    /n_d_embed_enable = false is not supported/,
  );
});
