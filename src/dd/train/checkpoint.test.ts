import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor } from '../../tensor/tensor.js';
import { loadCheckpoint, saveCheckpoint, type CheckpointState } from './checkpoint.js';
import { parseTrainConfig } from './config.js';

const cfg = parseTrainConfig({ family: 'var', dataset: '/d', out: '/o' });
const state = (step: number): CheckpointState => ({
  format: 'ddar-train/1',
  step,
  emaUpdates: step,
  position: { epoch: 0, index: step, seed: 0 },
  config: cfg,
  metrics: { loss: 1 },
});
const tensors = (v: number) => ({
  model: new Map([['w', new Tensor(Float32Array.of(v, v + 0.5), [2])]]),
  ema: new Map([['w', new Tensor(Float32Array.of(v), [1])]]),
  optim: new Map([['state.0.step', new Tensor(Int32Array.of(v), [])]]),
});

test('checkpoints round-trip exactly and the newest complete one is current', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddar-ckpt-'));
  saveCheckpoint(dir, state(5), tensors(5), 2);
  saveCheckpoint(dir, state(10), tensors(10), 2);
  saveCheckpoint(dir, state(15), tensors(15), 2);
  const ck = loadCheckpoint(dir);
  assert.equal(ck.state.step, 15);
  assert.deepEqual([...(ck.model.get('w')?.data ?? [])], [15, 15.5]);
  assert.equal(ck.optim.get('state.0.step')?.item(), 15);
  assert.deepEqual(ck.state.config, cfg);
  // keep = 2: step 5 was pruned
  assert.deepEqual(
    readdirSync(dir)
      .filter((f) => f.startsWith('ckpt-'))
      .sort(),
    [
      'ckpt-00000010.json',
      'ckpt-00000010.safetensors',
      'ckpt-00000015.json',
      'ckpt-00000015.safetensors',
    ],
  );
});

test('a failed or interrupted save leaves the previous checkpoint current and intact', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ddar-ckpt-'));
  saveCheckpoint(dir, state(5), tensors(5), 3);
  // A crash after the tensor file landed but before the state file (simulated: the state's
  // JSON encoding throws): latest.json still names step 5.
  const position = {
    epoch: 0,
    index: 10,
    seed: 0,
    toJSON: (): never => {
      throw new Error('disk full');
    },
  };
  assert.throws(() => saveCheckpoint(dir, { ...state(10), position }, tensors(10), 3), /disk full/);
  // A process killed mid-write: a stray temp file and a half-written tensor file of a later step.
  writeFileSync(join(dir, 'ckpt-00000020.safetensors.tmp-999-abcdef'), 'partial');
  writeFileSync(join(dir, 'ckpt-00000020.safetensors'), 'truncated');
  const ck = loadCheckpoint(dir);
  assert.equal(ck.state.step, 5);
  assert.deepEqual([...(ck.model.get('w')?.data ?? [])], [5, 5.5]);
  assert.ok(
    !readdirSync(dir).some((f) => f.includes('.tmp-') && !f.includes('999')),
    'no temp file of the failed save remains',
  );
});

test('loading a folder without a checkpoint says how to start', () => {
  assert.throws(
    () => loadCheckpoint(mkdtempSync(join(tmpdir(), 'ddar-ckpt-'))),
    /no checkpoint .*HINT: run without --resume/,
  );
});
