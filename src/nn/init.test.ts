// Initialisers: moments and bounds, determinism per seed, torch's fan and gain rules, and the
// normal CDF / quantile used by truncNormal_.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../tensor/rng.js';
import { zeros } from '../tensor/tensor.js';
import {
  calculateGain,
  constant_,
  fans,
  kaimingNormal_,
  kaimingUniform_,
  normal_,
  normalCdf,
  normalQuantile,
  ones_,
  truncNormal_,
  uniform_,
  xavierNormal_,
  xavierUniform_,
  zeros_,
} from './init.js';

function moments(v: ArrayLike<number>): [number, number] {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < v.length; i++) {
    s += v[i] as number;
    s2 += (v[i] as number) ** 2;
  }
  const m = s / v.length;
  return [m, Math.sqrt(s2 / v.length - m * m)];
}

test('normalCdf and normalQuantile match reference values and invert each other', () => {
  const ref: [number, number][] = [
    [0, 0.5],
    [1, 0.8413447460685429],
    [-2, 0.022750131948179195],
    [3.5, 0.9997673709209645],
    [-8, 6.22096057427178e-16],
  ];
  for (const [x, p] of ref)
    assert.ok(
      Math.abs(normalCdf(x) - p) < 1e-14 + 1e-12 * p,
      `Φ(${x}) = ${normalCdf(x)}, want ${p}`,
    );
  for (let x = -7; x <= 5; x += 0.37) {
    assert.ok(
      Math.abs(normalQuantile(normalCdf(x)) - x) < 1e-9,
      `Φ⁻¹(Φ(${x})) = ${normalQuantile(normalCdf(x))}`,
    );
  }
  assert.ok(Math.abs(normalQuantile(0.975) - 1.959963984540054) < 1e-12);
  assert.equal(normalQuantile(0), -Infinity);
  assert.equal(normalQuantile(1), Infinity);
});

test('constant_, zeros_, ones_', () => {
  const t = zeros([3]);
  assert.deepEqual(constant_(t, 2.5).toArray(), [2.5, 2.5, 2.5]);
  assert.deepEqual(ones_(t).toArray(), [1, 1, 1]);
  assert.deepEqual(zeros_(t).toArray(), [0, 0, 0]);
});

test('normal_ and uniform_: moments, bounds, determinism; int32 rejected', () => {
  const t = normal_(zeros([20000]), 0.5, new Rng(3), 1);
  const [m, s] = moments(t.data);
  assert.ok(Math.abs(m - 1) < 0.02 && Math.abs(s - 0.5) < 0.02, `mean ${m} std ${s}`);
  assert.deepEqual(
    normal_(zeros([5]), 1, new Rng(3)).toArray(),
    normal_(zeros([5]), 1, new Rng(3)).toArray(),
  );
  const u = uniform_(zeros([20000]), -2, 4, new Rng(4));
  assert.ok(u.toArray().every((v) => v > -2 && v < 4));
  const [um, us] = moments(u.data);
  assert.ok(Math.abs(um - 1) < 0.05 && Math.abs(us - 6 / Math.sqrt(12)) < 0.05);
  assert.throws(
    () => normal_(zeros([2], 'int32'), 1, new Rng(1)),
    /normal_: expected a float tensor/,
  );
});

test('truncNormal_: inside [a, b], moments of the truncated normal', () => {
  const std = 0.02;
  const t = truncNormal_(zeros([40000]), std, new Rng(7));
  assert.ok(t.toArray().every((v) => Math.abs(v) <= 2 * std * (1 + 1e-6)));
  // Var of N(0,1) truncated to [-2, 2]: 1 − 2·2φ(2)/(Φ(2) − Φ(−2)) = 0.7737413.
  const [m, s] = moments(t.data);
  assert.ok(Math.abs(m) < 0.01 * std * 3, `mean ${m}`);
  assert.ok(Math.abs(s - std * Math.sqrt(0.7737413)) < 0.01 * std, `std ${s}`);
  // One-sided, off-centre interval.
  const o = truncNormal_(zeros([5000], 'float64'), 1, new Rng(8), 0.5, 3, 1);
  assert.ok(o.toArray().every((v) => v >= 0.5 && v <= 3));
  assert.throws(
    () => truncNormal_(zeros([1]), 1, new Rng(1), 1, 0),
    /truncNormal_: need std > 0 and a < b/,
  );
});

test('fans and gains follow torch', () => {
  assert.deepEqual(fans(zeros([8, 3, 5, 5])), [75, 200]);
  assert.deepEqual(fans(zeros([4, 6])), [6, 4]);
  assert.throws(() => fans(zeros([4])), /fans: .* rank ≥ 2, got \[4\]/);
  assert.equal(calculateGain('relu'), Math.SQRT2);
  assert.equal(calculateGain('tanh'), 5 / 3);
  assert.equal(calculateGain('leaky_relu', Math.sqrt(5)), Math.sqrt(2 / 6));
});

test('kaiming and xavier: bounds and standard deviations', () => {
  // kaiming_uniform_(a=0, fan_in=100): bound = √2·√(3/100)
  const k = kaimingUniform_(zeros([50, 100]), new Rng(1));
  const kb = Math.SQRT2 * Math.sqrt(3 / 100);
  assert.ok(k.toArray().every((v) => Math.abs(v) <= kb));
  assert.ok(Math.max(...k.toArray().map(Math.abs)) > 0.98 * kb);
  const ko = kaimingUniform_(zeros([50, 100]), new Rng(1), {
    mode: 'fan_out',
    nonlinearity: 'linear',
  });
  assert.ok(Math.max(...ko.toArray().map(Math.abs)) <= Math.sqrt(3 / 50));
  const kn = kaimingNormal_(zeros([200, 100]), new Rng(2), { nonlinearity: 'relu' });
  assert.ok(Math.abs(moments(kn.data)[1] - Math.sqrt(2 / 100)) < 0.003);
  const xu = xavierUniform_(zeros([30, 70]), new Rng(3), 2);
  const xb = 2 * Math.sqrt(6 / 100);
  assert.ok(
    xu.toArray().every((v) => Math.abs(v) <= xb) &&
      Math.max(...xu.toArray().map(Math.abs)) > 0.98 * xb,
  );
  const xn = xavierNormal_(zeros([300, 100]), new Rng(4));
  assert.ok(Math.abs(moments(xn.data)[1] - Math.sqrt(2 / 400)) < 0.002);
});
