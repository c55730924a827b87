// Schedules: values at the warm-up, cosine and tail steps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constantLr, warmupCosine } from './schedule.js';

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-15, `${a} vs ${b}`);

test('warmupCosine: linear warm-up, cosine to minLr, then flat', () => {
  const f = warmupCosine({ baseLr: 1e-3, warmupSteps: 9, totalSteps: 109, minLr: 1e-4 });
  close(f(0), 1e-4); // 1e-3 · 1/10
  close(f(4), 5e-4);
  close(f(8), 9e-4);
  close(f(9), 1e-3); // cosine starts at baseLr
  close(f(59), 1e-4 + 0.5 * 9e-4); // half way
  close(f(34), 1e-4 + 0.5 * (1 + Math.cos(Math.PI / 4)) * 9e-4);
  close(f(109), 1e-4);
  close(f(5000), 1e-4);
  let prev = Infinity;
  for (let s = 9; s <= 109; s++) {
    assert.ok(f(s) <= prev);
    prev = f(s);
  }
  close(warmupCosine({ baseLr: 2, warmupSteps: 0, totalSteps: 10 })(10), 0);
  close(warmupCosine({ baseLr: 2, warmupSteps: 0, totalSteps: 10 })(0), 2);
  assert.throws(
    () => warmupCosine({ baseLr: 1, warmupSteps: 10, totalSteps: 5 }),
    /warmupCosine: need 0 ≤ warmupSteps ≤ totalSteps/,
  );
});

test('constantLr: with and without warm-up', () => {
  close(constantLr(0.5)(0), 0.5);
  close(constantLr(0.5)(1e6), 0.5);
  const g = constantLr(0.5, 4);
  assert.deepEqual([0, 1, 2, 3, 4, 100].map(g), [0.1, 0.2, 0.3, 0.4, 0.5, 0.5]);
});
