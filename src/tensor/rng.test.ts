import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, normalStream, philox4x32 } from './rng.js';

const hex = (a: Uint32Array) => Array.from(a, (x) => x.toString(16).padStart(8, '0'));

test('Philox4x32-10 matches the Random123 known-answer vectors', () => {
  const out = new Uint32Array(4);
  philox4x32(0, 0, 0, 0, 0, 0, out);
  assert.deepEqual(hex(out), ['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
  philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out);
  assert.deepEqual(hex(out), ['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
  philox4x32(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, out);
  assert.deepEqual(hex(out), ['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
});

test('streams are independent of call order and batching', () => {
  const whole = normalStream(5, 42, 10);
  const r = new Rng(5, 42);
  const a = r.normal(4);
  const b = r.normal(6);
  assert.deepEqual([...a, ...b], Array.from(whole));
  // a draw of 3 consumes one block, so the next draw starts at value 4
  const r2 = new Rng(5, 42);
  r2.normal(3);
  assert.deepEqual(Array.from(r2.normal(2)), Array.from(whole.subarray(4, 6)));
  assert.notDeepEqual(Array.from(normalStream(5, 43, 4)), Array.from(whole.subarray(0, 4)));
  assert.notDeepEqual(Array.from(normalStream(6, 42, 4)), Array.from(whole.subarray(0, 4)));
});

test('normals have mean 0 and variance 1; uniforms lie in (0, 1)', () => {
  const z = new Rng(1).normal(200000);
  let s = 0;
  let s2 = 0;
  for (const v of z) {
    s += v;
    s2 += v * v;
  }
  const n = z.length;
  assert.ok(Math.abs(s / n) < 0.01);
  assert.ok(Math.abs(s2 / n - 1) < 0.02);
  const u = new Rng(2).uniform(10000);
  assert.ok(u.every((v) => v > 0 && v < 1));
  const k = new Rng(3).randint(10000, 7);
  assert.ok(k.every((v) => v >= 0 && v < 7));
});

test('large seeds and streams use both key and counter words', () => {
  const a = normalStream(2 ** 40 + 1, 2 ** 35, 4);
  const b = normalStream(1, 2 ** 35, 4);
  assert.notDeepEqual(Array.from(a), Array.from(b));
  assert.throws(() => new Rng(-1), /seed must be an integer/);
  assert.throws(() => new Rng(1.5), /seed must be an integer/);
});
