import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/rng.js';
import { DEFAULT_FLOW, flowMap, timeGrid } from './flow.js';
import { chiSquare, flowFit, randomProblem } from './flow-stats.js';
import { filteredProbs } from '../sampling/fused.js';
import { kernels, referenceBackend, setBackend } from '../backend/registry.js';

/** χ² acceptance at a fixed seed: χ² ≤ dof + 4·sqrt(2·dof) (about 4 standard deviations). */
function accept(r: { chi2: number; dof: number }): boolean {
  return r.chi2 <= r.dof + 4 * Math.sqrt(2 * r.dof);
}

/** A codebook of V unit vectors in R^d (LlamaGen's is l2-normalised; VAR's is not: scale). */
function codebookOf(seed: number, V: number, d: number, scale = 1): Float32Array {
  const c = new Rng(seed).normal(V * d) as Float32Array;
  for (let k = 0; k < V; k++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += c[k * d + j]! ** 2;
    for (let j = 0; j < d; j++) c[k * d + j] = (c[k * d + j]! / Math.sqrt(s)) * scale;
  }
  return c;
}

/** p = softmax of top-k-filtered random logits with the given spread. */
function topKProbs(seed: number, V: number, k: number, spread: number): Float32Array {
  const l = new Rng(seed).normal(V) as Float32Array;
  for (let i = 0; i < V; i++) l[i] = l[i]! * spread;
  return filteredProbs(l, 1, V, { topK: k, rule: 'llamagen' });
}

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

test('flow map matches p for LlamaGen- and VAR-sized problems (χ² ≤ dof + 4·sqrt(2·dof))', () => {
  const cases: { name: string; V: number; d: number; p: Float32Array; scale: number; draws: number }[] = [
    // LlamaGen: V = 16384, d = 8, unit codebook, top-k 8000 of peaked logits (most mass on ~100)
    { name: 'V 16384 d 8 top-k 8000', V: 16384, d: 8, p: topKProbs(1, 16384, 8000, 2.5), scale: 1, draws: 1500 },
    // VAR: V = 4096, d = 32, unnormalised codebook, top-k 900
    { name: 'V 4096 d 32 top-k 900', V: 4096, d: 32, p: topKProbs(2, 4096, 900, 1.5), scale: 3, draws: 2000 },
  ];
  // a very peaked p: one entry with 97% of the mass, 40 others sharing the rest
  const peaked = new Float32Array(16384);
  peaked[123] = 0.97;
  for (let i = 0; i < 40; i++) peaked[1000 + 37 * i] = 0.03 / 40;
  cases.push({ name: 'peaked', V: 16384, d: 8, p: peaked, scale: 1, draws: 4000 });
  for (const c of cases) {
    const r = flowFit(codebookOf(c.V + c.d, c.V, c.d, c.scale), c.p, c.d, c.draws, 11, DEFAULT_FLOW);
    assert.ok(accept(r), `${c.name}: χ² ${r.chi2.toFixed(1)} over ${r.dof} dof exceeds ${(r.dof + 4 * Math.sqrt(2 * r.dof)).toFixed(1)}`);
  }
});

test('tokens are identical on every backend and batch split', async () => {
  const { loadNativeBackend } = await import('../backend/native/index.js');
  const V = 2048;
  const d = 8;
  const N = 24;
  const probs = new Float32Array(N * V);
  for (let i = 0; i < N; i++) probs.set(topKProbs(100 + i, V, 300, 2), i * V);
  const codebook = codebookOf(3, V, d);
  const noise = new Rng(8).normal(N * d) as Float32Array;
  const prev = kernels();
  try {
    setBackend(referenceBackend());
    const ref = flowMap(probs, codebook, noise, V, d);
    const native = loadNativeBackend();
    for (const be of native ? [referenceBackend(), native] : [referenceBackend()]) {
      setBackend(be);
      const all = flowMap(probs, codebook, noise, V, d);
      assert.deepEqual(all.tokens, ref.tokens, `${be.name}: tokens`);
      assert.deepEqual(all.endpoints, ref.endpoints, `${be.name}: end points`);
      assert.deepEqual(all.finalWeight, ref.finalWeight, `${be.name}: weights`);
      const half = flowMap(probs.subarray(5 * V, 17 * V), codebook, noise.subarray(5 * d, 17 * d), V, d);
      assert.deepEqual(half.tokens, ref.tokens.subarray(5, 17), `${be.name}: batch split`);
    }
  } finally {
    setBackend(prev);
  }
});

test('the native flow map uses an exp identical to Math.exp', async () => {
  const { nativeExp64 } = await import('../backend/native/index.js');
  const rng = new Rng(77);
  const u = rng.uniform(200000);
  const xs = new Float64Array(u.length + 8);
  // the flow map's range (w − max ≤ 0, down to underflow), plus special values
  for (let i = 0; i < u.length; i++) xs[i] = -760 * u[i]! ** 3 + (i % 7 === 0 ? 2 * u[i]! : 0);
  xs.set([0, -0, 1, -1, 1e-300, -745.2, 709.8, NaN], u.length);
  const native = nativeExp64(xs);
  if (!native) return; // addon not built: nothing to compare
  let bad = 0;
  for (let i = 0; i < xs.length; i++) if (!Object.is(native[i], Math.exp(xs[i]!))) bad++;
  assert.equal(bad, 0, `${bad} of ${xs.length} values differ from Math.exp`);
});
