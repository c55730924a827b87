// LPIPS-VGG: float64 gradient check of the whole metric, parity with an independent NumPy
// implementation of the package's formula (same random weights, read from safetensors files in
// both layouts the loader accepts), zero for identical images, and the strict key report.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { saveSafetensors } from '../io/safetensors.js';
import { Conv2d } from '../nn/layers.js';
import { gradCheck, randn64 } from '../tensor/gradcheck.js';
import * as T from '../tensor/index.js';
import {
  LPIPS,
  canonicalLpipsName,
  loadLpips,
  loadLpipsWeights,
  maxPool2x2,
  type LpipsConfig,
} from './lpips.js';
import { randomLpips } from './testing.js';

const TINY: LpipsConfig = { widths: [3, 4, 5, 6, 6] };

/** Uniform values in [−1, 1) as a float32 tensor. */
function image(rng: T.Rng, n: number, shape: readonly number[]): T.Tensor {
  return new T.Tensor(
    Float32Array.from(rng.uniform(n), (v) => 2 * v - 1),
    shape,
  );
}

/** Swaps every conv's tensors for float64 copies (for finite differences). */
function toFloat64(m: LPIPS): LPIPS {
  for (const c of m.modules())
    if (c instanceof Conv2d) {
      c.weight = new T.Tensor(Float64Array.from(c.weight.data), c.weight.shape);
      if (c.bias) c.bias = new T.Tensor(Float64Array.from(c.bias.data), c.bias.shape);
    }
  return m;
}

test('maxPool2x2 matches a direct 2×2 max (odd sizes floored) and passes a gradient check', () => {
  const rng = new T.Rng(5);
  const x = randn64(rng, [2, 3, 5, 7]);
  const y = maxPool2x2(x);
  assert.deepEqual(y.shape, [2, 3, 2, 3]);
  const xd = x.data;
  for (let p = 0; p < 6; p++)
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) {
        const at = (r: number, c: number) => xd[(p * 5 + r) * 7 + c] as number;
        const want = Math.max(
          at(2 * i, 2 * j),
          at(2 * i, 2 * j + 1),
          at(2 * i + 1, 2 * j),
          at(2 * i + 1, 2 * j + 1),
        );
        assert.equal(y.data[(p * 2 + i) * 3 + j], want);
      }
  const r = gradCheck(([a]) => maxPool2x2(a as T.Tensor), [x], rng);
  assert.ok(r.maxError < 1e-6, JSON.stringify(r));
});

test('LPIPS: float64 gradient check w.r.t. both images of the whole metric', () => {
  const m = toFloat64(randomLpips(TINY, 1));
  const rng = new T.Rng(11);
  const a = randn64(rng, [1, 3, 16, 16], [-1, 1]);
  const b = randn64(rng, [1, 3, 16, 16], [-1, 1]);
  const r = gradCheck(([x, y]) => m.forward(x as T.Tensor, y as T.Tensor), [a, b], rng);
  assert.ok(r.maxError < 1e-5, `gradient mismatch: ${JSON.stringify(r)}`);
});

test('LPIPS: identical images give exactly 0; distinct ones a positive distance per image', () => {
  const m = randomLpips(TINY, 2);
  const rng = new T.Rng(12);
  const a = image(rng, 2 * 3 * 16 * 16, [2, 3, 16, 16]);
  const b = image(rng, 2 * 3 * 16 * 16, [2, 3, 16, 16]);
  const z = m.forward(a, a);
  assert.deepEqual(z.shape, [2, 1, 1, 1]);
  assert.deepEqual([...z.data], [0, 0]);
  const d = m.forward(a, b);
  assert.ok(
    d.data.every((v) => v > 0),
    `distances ${[...d.data]}`,
  );
  assert.throws(() => m.forward(T.zeros([1, 3, 8, 8]), T.zeros([1, 3, 8, 8])), /at least 16×16/);
  assert.throws(() => m.forward(T.zeros([1, 3, 16, 16]), T.zeros([1, 3, 16, 17])), /same shape/);
});

// The package's formula in float64 NumPy, reading the weights (torchvision + lin layout) and the
// images from safetensors files; conv by explicit shifts, max-pool by reshape (floored).
const PY = String.raw`
import json, struct, sys
import numpy as np
def load(p):
    b = open(p, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n]); base = 8 + n; out = {}
    for k, v in h.items():
        if k == '__metadata__': continue
        s, e = v['data_offsets']
        out[k] = np.frombuffer(b[base + s:base + e], dtype='<f4').reshape(v['shape']).astype(np.float64)
    return out
w = load(sys.argv[1]); w.update(load(sys.argv[2])); x = load(sys.argv[3])
def conv3(h, W, B):
    N, C, H, Wd = h.shape
    p = np.pad(h, ((0, 0), (0, 0), (1, 1), (1, 1)))
    y = np.zeros((N, W.shape[0], H, Wd))
    for i in range(3):
        for j in range(3):
            y += np.einsum('nchw,oc->nohw', p[:, :, i:i + H, j:j + Wd], W[:, :, i, j])
    return y + B[None, :, None, None]
def pool(h):
    N, C, H, Wd = h.shape; H2, W2 = H // 2, Wd // 2
    return h[:, :, :2 * H2, :2 * W2].reshape(N, C, H2, 2, W2, 2).max(axis=(3, 5))
def trunk(h):
    outs = []
    for s, (a, b) in enumerate([(0, 4), (4, 9), (9, 16), (16, 23), (23, 30)]):
        if s > 0: h = pool(h)
        for i in range(a, b):
            if 'features.%d.weight' % i in w:
                h = np.maximum(conv3(h, w['features.%d.weight' % i], w['features.%d.bias' % i]), 0)
        outs.append(h)
    return outs
shift = np.array([-.030, -.088, -.188])[None, :, None, None]
scale = np.array([.458, .448, .450])[None, :, None, None]
def nt(f): return f / (np.sqrt((f ** 2).sum(axis=1, keepdims=True)) + 1e-10)
f0 = trunk((x['in0'] - shift) / scale); f1 = trunk((x['in1'] - shift) / scale)
val = 0
for k in range(5):
    d = (nt(f0[k]) - nt(f1[k])) ** 2
    val = val + np.einsum('nchw,c->nhw', d, w['lin%d.model.1.weight' % k][0, :, 0, 0]).mean(axis=(1, 2))
print(json.dumps(val.tolist()))
`;

function hasNumpy(): boolean {
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  return r.status === 0;
}

test('LPIPS: parity with an independent NumPy implementation (files in two layouts, odd sizes)', (t) => {
  if (!hasNumpy()) {
    t.skip('python3 with numpy is not available');
    return;
  }
  const cfg: LpipsConfig = { widths: [4, 6, 8, 8, 8] };
  const m = randomLpips(cfg, 3);
  const dir = mkdtempSync(join(tmpdir(), 'ddar-lpips-'));
  const sd = m.stateDict();
  const lin = new Map([...sd].filter(([k]) => k.startsWith('lin')));
  const vgg = new Map([...sd].filter(([k]) => k.startsWith('features')));
  vgg.set('classifier.0.weight', T.zeros([2, 3])); // torchvision's head: known, ignored
  saveSafetensors(join(dir, 'lin.safetensors'), lin);
  saveSafetensors(join(dir, 'vgg16.safetensors'), vgg);
  const rng = new T.Rng(13);
  const shape = [2, 3, 20, 18];
  const n = 2 * 3 * 20 * 18;
  const in0 = image(rng, n, shape);
  const in1 = image(rng, n, shape);
  saveSafetensors(join(dir, 'x.safetensors'), { in0, in1 });
  const py = spawnSync(
    'python3',
    [
      '-c',
      PY,
      join(dir, 'lin.safetensors'),
      join(dir, 'vgg16.safetensors'),
      join(dir, 'x.safetensors'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(py.status, 0, py.stderr);
  const want = JSON.parse(py.stdout) as number[];
  const loaded = loadLpips(join(dir, 'lin.safetensors'), join(dir, 'vgg16.safetensors'), cfg);
  const got = [...loaded.forward(in0, in1).data];
  assert.equal(got.length, 2);
  got.forEach((g, i) => {
    const w = want[i] as number;
    assert.ok(Math.abs(g - w) <= 1e-4 * Math.abs(w), `image ${i}: ${g} vs numpy ${w}`);
  });
});

test('LPIPS: the full LPIPS module layout (net.slice*, lins.*, scaling_layer) loads to the same metric', () => {
  const m = randomLpips(TINY, 4);
  const full = new Map<string, T.Tensor>();
  const slice = (i: number) => [4, 9, 16, 23, 30].findIndex((e) => i < e) + 1;
  for (const [k, t] of m.stateDict()) {
    const f = /^features\.(\d+)\.(.*)$/.exec(k);
    if (f) full.set(`net.slice${slice(Number(f[1]))}.${f[1]}.${f[2]}`, t);
    else {
      full.set(k, t);
      full.set(k.replace(/^lin(\d)/, 'lins.$1'), t);
    }
  }
  full.set('scaling_layer.shift', T.fromArray([-0.03, -0.088, -0.188], [1, 3, 1, 1]));
  full.set('scaling_layer.scale', T.fromArray([0.458, 0.448, 0.45], [1, 3, 1, 1]));
  assert.equal(canonicalLpipsName('net.slice2.5.weight'), 'features.5.weight');
  assert.equal(canonicalLpipsName('net.slice1.5.weight'), null); // index 5 lies in slice 2
  const m2 = new LPIPS(TINY);
  loadLpipsWeights(m2, [{ name: 'full', sd: full }]);
  const rng = new T.Rng(14);
  const a = image(rng, 3 * 256, [1, 3, 16, 16]);
  const b = image(rng, 3 * 256, [1, 3, 16, 16]);
  assert.deepEqual([...m2.forward(a, b).data], [...m.forward(a, b).data]);
});

test('LPIPS: every missing, unexpected, mis-shaped and doubly given key is reported at once', () => {
  const m = randomLpips(TINY, 5);
  const sd = new Map(m.stateDict());
  sd.delete('features.28.bias');
  sd.delete('lin3.model.1.weight');
  sd.set('features.5.weight', T.zeros([9, 3, 3, 3]));
  sd.set('net.slice1.7.weight', T.zeros([1]));
  sd.set('bogus.weight', T.zeros([1]));
  const lin = new Map([['lin0.model.1.weight', T.zeros([1, 3, 1, 1])]]);
  const bad = new Map([['scaling_layer.shift', T.zeros([1, 3, 1, 1])]]);
  const target = new LPIPS(TINY);
  const before = [...(target.stateDict().get('features.0.weight')?.data ?? [])];
  assert.throws(
    () =>
      loadLpipsWeights(target, [
        { name: 'a.pth', sd },
        { name: 'b.pth', sd: lin },
        { name: 'c.pth', sd: bad },
      ]),
    (e: Error) => {
      for (const s of [
        'missing keys (2): features.28.bias, lin3.model.1.weight',
        'net.slice1.7.weight (a.pth)',
        'bogus.weight (a.pth)',
        'features.5.weight expected [4, 3, 3, 3] found [9, 3, 3, 3] (a.pth)',
        'lin0.model.1.weight is given by both a.pth and b.pth',
        'scaling_layer.shift (c.pth)',
        'HINT:',
      ])
        assert.ok(e.message.includes(s), `message lacks '${s}':\n${e.message}`);
      return true;
    },
  );
  assert.deepEqual(
    [...(target.stateDict().get('features.0.weight')?.data ?? [])],
    before,
    'nothing was modified',
  );
});
