import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/rng.js';
import { DEFAULT_FLOW, flowMap, timeGrid } from './flow.js';
import { chiSquare, flowFit, randomProblem } from './flow-stats.js';

test('time grids start at 0, end at 1 and increase', () => {
  for (const g of ['uniform', 'quadratic'] as const) {
    const t = timeGrid(7, g);
    assert.equal(t[0], 0);
    assert.equal(t[7], 1);
    for (let i = 1; i < t.length; i++) assert.ok(t[i]! > t[i - 1]!);
  }
  assert.throws(() => timeGrid(0, 'uniform'), /positive integer/);
});

test('the default flow map pushes N(0, I) onto p (χ² test), and a 2-step Euler map does not', () => {
  // 64-entry support out of V = 256 unit vectors in R^8, 4000 draws.
  const { codebook, p } = randomProblem(7, 256, 8, 64);
  const good = flowFit(codebook, p, 8, 4000, 3, DEFAULT_FLOW);
  assert.ok(good.ratio < 1.4, `default: χ²/dof = ${good.ratio.toFixed(2)} over ${good.dof} dof`);
  const bad = flowFit(codebook, p, 8, 4000, 3, { steps: 2, solver: 'euler', grid: 'uniform' });
  assert.ok(bad.ratio > 2, `2-step Euler should be detectably wrong: χ²/dof = ${bad.ratio.toFixed(2)}`);
});

test('deterministic, batched rows equal single rows, one-hot p maps to its entry', () => {
  const { codebook, p } = randomProblem(9, 64, 8, 20);
  const noise = new Rng(4).normal(5 * 8) as Float32Array;
  const probs = new Float32Array(5 * 64);
  for (let i = 0; i < 5; i++) probs.set(p, i * 64);
  probs.fill(0, 2 * 64, 3 * 64);
  probs[2 * 64 + 17] = 1;
  const all = flowMap(probs, codebook, noise, 64, 8);
  assert.equal(all.tokens[2], 17);
  assert.ok(Math.abs(all.finalWeight[2]! - 1) < 1e-6);
  for (let i = 0; i < 5; i++) {
    const one = flowMap(probs.subarray(i * 64, (i + 1) * 64), codebook, noise.subarray(i * 8, (i + 1) * 8), 64, 8);
    assert.equal(one.tokens[0], all.tokens[i]);
  }
  const again = flowMap(probs, codebook, noise, 64, 8);
  assert.deepEqual(again.tokens, all.tokens);
  for (let i = 0; i < 5; i++) assert.ok(p[all.tokens[i]!]! > 0 || i === 2, 'lands inside the support');
});

test('chiSquare detects a wrong distribution', () => {
  const probs = [0.25, 0.25, 0.25, 0.25];
  assert.ok(chiSquare([250, 250, 250, 250], probs, 1000).ratio < 0.01);
  assert.ok(chiSquare([400, 200, 200, 200], probs, 1000).ratio > 10);
});

test('bad input gets a clear error', () => {
  assert.throws(() => flowMap(new Float32Array(4), new Float32Array(8), new Float32Array(2), 4, 2), /no positive probability/);
  assert.throws(() => flowMap(new Float32Array(5), new Float32Array(8), new Float32Array(2), 4, 2), /expected probs/);
});
