import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as T from '../../tensor/index.js';
import { vqvaeConfigFromJson } from './config.js';
import { phiIndex, VectorQuantizer2 } from './quant.js';
import { randomInit_ } from '../../nn/init.js';

test('Φ index per scale: float64 NumPy ticks decide the exact ties (var-dd.md §2.4)', () => {
  const map = (SN: number, K = 4) => Array.from({ length: SN }, (_, k) => phiIndex(k, SN, K));
  assert.deepEqual(map(10), [0, 0, 1, 1, 1, 2, 2, 3, 3, 3]);
  assert.deepEqual(map(4), [0, 1, 2, 3]);
  assert.deepEqual(map(14), [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3]);
  assert.deepEqual(map(10, 1), new Array(10).fill(0));
  // K ≠ 4 uses 1/(2K) margins; PhiNonShared (K = SN) maps scale k to Φ k.
  assert.deepEqual(map(6, 6), [0, 1, 2, 3, 4, 5]);
});

test('token-map resamplers match F.interpolate: bicubic A = −0.75 taps, overlapping area windows', () => {
  const w = T.resizeWeights('bicubic', 2, 16);
  const expect = [-0.08075 + 0.51056 + 0.67401, -0.10382]; // taps clamp to (0, 0, 0, 1)
  assert.ok(Math.abs((w[0] as number) - (expect[0] as number)) < 1e-4);
  assert.ok(Math.abs((w[1] as number) - (expect[1] as number)) < 1e-4);
  const a = T.resizeWeights('area', 16, 10);
  const windows: [number, number][] = [];
  for (let o = 0; o < 10; o++) {
    const row = Array.from(a.subarray(o * 16, (o + 1) * 16));
    windows.push([row.findIndex((x) => x > 0), 16 - [...row].reverse().findIndex((x) => x > 0)]);
  }
  assert.deepEqual(windows, [
    [0, 2],
    [1, 4],
    [3, 5],
    [4, 7],
    [6, 8],
    [8, 10],
    [9, 12],
    [11, 13],
    [12, 15],
    [14, 16],
  ]);
  const one = T.resize2d(T.full([1, 1, 1, 1], 2.5), 16, 16, 'bicubic');
  assert.ok(one.toArray().every((x) => Math.abs(x - 2.5) < 1e-6));
});

test('residual quantization: f̂ rebuilt from the indices equals the quantizer f̂; var input is area(f̂)', () => {
  const cfg = vqvaeConfigFromJson({
    vocab_size: 32,
    z_channels: 4,
    ch: 32,
    encoder_ch_mult: [1],
    decoder_ch_mult: [1],
    num_res_blocks: 1,
    v_patch_nums: [1, 2, 3, 5],
  });
  const q = randomInit_(new VectorQuantizer2(cfg), new T.Rng(3));
  const B = 2;
  const f = new T.Tensor(new T.Rng(4).normal(B * 4 * 25) as Float32Array, [B, 4, 5, 5]);
  T.noGrad(() => {
    const r = q.fToIdxBl(f);
    assert.deepEqual(
      r.idx.map((x) => x.length),
      [2, 8, 18, 50],
    );
    const fh = q.idxBlToFhat(r.idx, B);
    for (let k = 0; k < 4; k++) {
      const d = T.sub(fh[k] as T.Tensor, r.fhat[k] as T.Tensor).toArray();
      assert.ok(
        d.every((x) => Math.abs(x) < 1e-5),
        `scale ${k}`,
      );
    }
    const x = q.idxBlToVarInput(r.idx, B);
    assert.deepEqual(x.shape, [B, 4 + 9 + 25, 4]);
    const last = T.resize2d(fh[2] as T.Tensor, 5, 5, 'area'); // identity at the last size
    const tail = T.narrow(x, 1, 13, 25); // [B, 25, Cv]
    const want = T.transpose(T.reshape(last, [B, 4, 25]), 1, 2);
    assert.ok(
      T.sub(tail, want)
        .toArray()
        .every((v) => Math.abs(v) < 1e-6),
    );
  });
});

test('share_quant_resi variants name their Φ convs as the official modules', () => {
  const base = { vocab_size: 8, z_channels: 4, ch: 32, v_patch_nums: [1, 2, 3] };
  const keys = (n: number) =>
    [
      ...new VectorQuantizer2(vqvaeConfigFromJson({ ...base, share_quant_resi: n }))
        .stateDict()
        .keys(),
    ].filter((k) => k.includes('quant_resi'));
  assert.deepEqual(keys(1), ['quant_resi.qresi.weight', 'quant_resi.qresi.bias']);
  assert.equal(keys(0)[0], 'quant_resi.0.weight');
  assert.equal(keys(0).length, 6);
  assert.equal(keys(4)[6], 'quant_resi.qresi_ls.3.weight');
  const none = [
    ...new VectorQuantizer2(vqvaeConfigFromJson({ ...base, quant_resi: 0 })).stateDict().keys(),
  ];
  assert.ok(!none.some((k) => k.includes('quant_resi')));
});
