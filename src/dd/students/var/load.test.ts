import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveSafetensors } from '../../../io/safetensors.js';
import { findFixturesDir } from '../../../io/testing.js';
import * as T from '../../../tensor/index.js';
import { loadVarDD, readVarDDStateDict } from './load.js';
import { smallConfig, smallStudent } from './testing.js';

test('safetensors without buffers loads strictly; buffers are rebuilt and reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddar-vardd-'));
  try {
    const m = smallStudent(4);
    const sd = new Map(
      [...m.stateDict()].filter(([k]) => !/lvl_1L|attn_bias_for_masking|zero_k_bias/.test(k)),
    );
    const path = join(dir, 'dd.safetensors');
    saveSafetensors(path, sd);
    const { model, report } = loadVarDD(path, smallConfig());
    assert.deepEqual(report.missing, []);
    assert.equal(report.rebuiltBuffers.length, 4);
    assert.deepEqual([...model.head.weight.data], [...m.head.weight.data]);
    assert.equal(model.attn_bias_for_masking.data[1], -Infinity);
    // An unexpected key and a missing parameter: strict throws listing both; non-strict reports.
    sd.set('extra.weight', T.zeros([2]));
    sd.delete('n_d_embed.weight');
    saveSafetensors(path, sd);
    assert.throws(
      () => loadVarDD(path, smallConfig()),
      /missing keys \(1\): n_d_embed\.weight[\s\S]*unexpected keys \(1\): extra\.weight/,
    );
    const r = loadVarDD(path, smallConfig(), { strict: false }).report;
    assert.deepEqual([r.missing, r.unexpected], [['n_d_embed.weight'], ['extra.weight']]);
    // A teacher-shaped pos_1LC is a mis-shaped key with a hint.
    sd.set('n_d_embed.weight', T.zeros([2, 64]));
    sd.delete('extra.weight');
    sd.set('pos_1LC', T.zeros([1, 30, 64]));
    saveSafetensors(path, sd);
    assert.throws(
      () => loadVarDD(path, smallConfig()),
      /pos_1LC expected \[1, 31, 64\] found \[1, 30, 64\][\s\S]*not the teacher/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const fx = findFixturesDir();
const pt = fx ? join(fx, 'var_dd', 'weights.pt') : '';
test(
  'the official trainer wrapping: ema_parameters by default, var_wo_ddp with ema=false',
  { skip: fx && existsSync(pt) ? false : 'shared fixtures not found' },
  () => {
    assert.equal(readVarDDStateDict(pt).key, 'trainer.ema_parameters');
    assert.equal(readVarDDStateDict(pt, { ema: false }).key, 'trainer.var_wo_ddp');
    assert.equal(readVarDDStateDict(pt, { key: 'trainer.var_wo_ddp' }).sd.size, 48);
  },
);
