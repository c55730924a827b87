import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import {
  fromUint8,
  imageGrid,
  readImageTensor,
  toUint8LlamaGen,
  toUint8Var,
  writeImageGrid,
} from './image.js';
import { readPng } from './png.js';

const dir = mkdtempSync(join(tmpdir(), 'ddar-img-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// Values around the rounding boundaries of both conventions, plus out-of-range and NaN.
function probe(): Float32Array {
  const v: number[] = [
    -2,
    -1.0000001,
    -1,
    -0.99999994,
    0,
    1,
    1.0000001,
    3,
    NaN,
    Infinity,
    -Infinity,
  ];
  for (let p = 0; p <= 256; p++) {
    const b = p / 127.5 - 1;
    v.push(b, (p - 0.5) / 127.5 - 1, (p + 0.5) / 127.5 - 1, (p - 128) / 127.5);
  }
  for (let i = 0; i < 2000; i++) v.push(Math.sin(i * 12.9898) * 1.05);
  return Float32Array.from(v);
}

function asImage(v: Float32Array): Tensor {
  const n = Math.ceil(v.length / 3);
  const d = new Float32Array(3 * n);
  d.set(v);
  return new Tensor(d, [3, 1, n]);
}

function chw(px: Uint8Array, n: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < 3; c++) for (let i = 0; i < n; i++) out.push(px[i * 3 + c]!);
  return out;
}

test('hand-checked pixel values for both conventions', () => {
  const t = new Tensor(Float32Array.from([-1, 0, 1, -1, 0, 1, -1, 0, 1]), [3, 1, 3]);
  assert.deepEqual([...toUint8LlamaGen(t).subarray(0, 3)], [0, 0, 0]);
  // LlamaGen: 127.5*0+128 = 128; 127.5+128 = 255.5 -> clamp 255
  assert.deepEqual(chw(toUint8LlamaGen(t), 3).slice(0, 3), [0, 128, 255]);
  // VAR: (0+1)/2*255+0.5 = 128.0 -> 128; 1 -> 255.5 -> 255
  assert.deepEqual(chw(toUint8Var(t), 3).slice(0, 3), [0, 128, 255]);
  const nan = new Tensor(Float32Array.from([NaN, 5, -5]), [3, 1, 1]);
  assert.deepEqual([...toUint8LlamaGen(nan)], [0, 255, 0]);
  assert.deepEqual([...toUint8Var(nan)], [0, 255, 0]);
});

const numpy = (() => {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

test('matches numpy float32 emulation of the official torch expressions', { skip: !numpy }, () => {
  const v = probe();
  const script = `
import sys, numpy as np
x = np.frombuffer(bytes.fromhex(sys.stdin.read()), dtype=np.float32)
with np.errstate(invalid='ignore', over='ignore'):
    # LlamaGen sample_ddp: torch.clamp(127.5 * x + 128.0, 0, 255).to(torch.uint8)
    a = np.clip(np.float32(127.5) * x + np.float32(128.0), 0, 255)
    a = np.where(np.isnan(a), 0, a).astype(np.uint8)
    # VAR: clamp(-1, 1), (x + 1) / 2, torchvision mul(255).add_(0.5).clamp_(0, 255).to(uint8)
    u = (np.clip(x, -1, 1) + np.float32(1)) / np.float32(2)
    b = np.clip(u * np.float32(255) + np.float32(0.5), 0, 255)
    b = np.where(np.isnan(b), 0, b).astype(np.uint8)
    # inverse: ToTensor then Normalize(0.5, 0.5)
    p = np.arange(256, dtype=np.uint8).astype(np.float32) / np.float32(255)
    c = (p - np.float32(0.5)) / np.float32(0.5)
sys.stdout.write(a.tobytes().hex() + ' ' + b.tobytes().hex() + ' ' + c.astype(np.float32).tobytes().hex())
`;
  const [a, b, c] = execFileSync('python3', ['-c', script], {
    input: Buffer.from(v.buffer).toString('hex'),
  })
    .toString()
    .split(' ');
  const img = asImage(v);
  const n = img.shape[2]!;
  assert.equal(Buffer.from(chw(toUint8LlamaGen(img), n).slice(0, v.length)).toString('hex'), a);
  assert.equal(Buffer.from(chw(toUint8Var(img), n).slice(0, v.length)).toString('hex'), b);
  const px = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) px[i * 3] = px[i * 3 + 1] = px[i * 3 + 2] = i;
  const back = fromUint8({ width: 256, height: 1, channels: 3, data: px });
  assert.equal(Buffer.from(back.data.buffer, 0, 1024).toString('hex'), c);
});

test('fromUint8 inverts toUint8Var on every 8-bit value', () => {
  const px = new Uint8Array(256 * 3);
  for (let i = 0; i < 768; i++) px[i] = i % 256;
  const t = fromUint8({ width: 256, height: 1, channels: 3, data: px });
  assert.equal(t.dtype, 'float32');
  const back = toUint8Var(t);
  const back2 = toUint8LlamaGen(t);
  assert.deepEqual(back, px);
  assert.deepEqual(back2, px);
});

test('image grid: make_grid layout, padding and labels; PNG round trip', () => {
  const n = 5;
  const d = new Float32Array(n * 3 * 6 * 7);
  for (let i = 0; i < d.length; i++) d[i] = (i % 11) / 5 - 1;
  const t = new Tensor(d, [n, 3, 6, 7]);
  const g = imageGrid(t, { nrow: 3, padding: 2, padValue: 0 });
  assert.equal(g.width, 3 * (7 + 2) + 2);
  assert.equal(g.height, 2 * (6 + 2) + 2);
  // tile 4 (row 1, col 1) top-left pixel equals image 4's first pixel
  const px = toUint8Var(t);
  const o = ((8 + 2) * g.width + 9 + 2) * 3;
  assert.deepEqual([...g.data.subarray(o, o + 3)], [...px.subarray(4 * 42 * 3, 4 * 42 * 3 + 3)]);
  assert.deepEqual([...g.data.subarray(0, 6)], [0, 0, 0, 0, 0, 0]);
  const p = join(dir, 'grid.png');
  writeImageGrid(p, t, { nrow: 3, labels: ['cat 1', 'b', 'c', 'd', 'e'] });
  const back = readPng(p);
  assert.equal(back.height, 2 * (6 + 11 + 2) + 2);
  // the label strip under tile 0 has white ink
  let ink = 0;
  for (let y = 2 + 6; y < 2 + 6 + 11; y++)
    for (let x = 2; x < 9; x++) if (back.data[(y * back.width + x) * 3] === 255) ink++;
  assert.ok(ink > 3, `label ink ${ink}`);
  assert.deepEqual(readImageTensor(p).shape, [3, back.height, back.width]);
  assert.throws(() => imageGrid(t, { labels: ['x'] }), /1 labels for 5 images/);
  assert.throws(
    () => toUint8Var(new Tensor(new Float32Array(8), [2, 2, 2])),
    /expected shape \[3, H, W\]/,
  );
});
