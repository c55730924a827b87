import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { floatToBF16Bits, floatToF16Bits, f16LookupTable } from './half.js';
import { loadSafetensors, openSafetensors, saveSafetensors } from './safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'ddar-st-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function header(obj: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(JSON.stringify(obj));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

function writeTmp(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

test('round trip F32 / F64 / I32 / I64 with metadata, bitwise', () => {
  const f = new Tensor(Float32Array.from([1.5, -0, NaN, Infinity, 3e-41, 7]), [2, 3]);
  const d = new Tensor(Float64Array.from([Math.PI, -1e300]), [2]);
  const i = new Tensor(Int32Array.from([-2147483648, 2147483647, 0]), [3]);
  const e = new Tensor(new Float32Array(0), [0, 4]);
  const p = join(dir, 'rt.safetensors');
  saveSafetensors(p, { f, d, i, e }, { metadata: { config: '{"a":1}' } });
  const file = openSafetensors(p);
  assert.deepEqual(file.metadata, { config: '{"a":1}' });
  assert.deepEqual(file.info('d'), { dtype: 'F64', shape: [2] });
  assert.deepEqual(file.info('i'), { dtype: 'I32', shape: [3] });
  const all = loadSafetensors(p, { keepF64: true });
  assert.deepEqual(Buffer.from(all.get('f')!.data.buffer), Buffer.from(f.data.buffer));
  assert.equal(all.get('d')!.dtype, 'float64');
  assert.deepEqual(all.get('d')!.toArray(), [Math.PI, -1e300]);
  assert.equal(file.get('d').dtype, 'float32');
  assert.deepEqual(all.get('i')!.toArray(), [-2147483648, 2147483647, 0]);
  assert.deepEqual(all.get('e')!.shape, [0, 4]);
  saveSafetensors(p, { i }, { intDtype: 'I64' });
  assert.equal(openSafetensors(p).info('i').dtype, 'I64');
  assert.deepEqual(loadSafetensors(p).get('i')!.toArray(), [-2147483648, 2147483647, 0]);
  // the header is padded to a multiple of 8 and no temp files are left
  const n = Number(readFileSync(p).readBigUInt64LE(0));
  assert.equal(n % 8, 0);
  assert.deepEqual(
    readdirSync(dir).filter((x) => x.includes('.tmp-')),
    [],
  );
});

test('F16 and BF16: exact bit patterns, rounding to nearest even, specials', () => {
  assert.equal(floatToF16Bits(1), 0x3c00);
  assert.equal(floatToF16Bits(-2), 0xc000);
  assert.equal(floatToF16Bits(65504), 0x7bff);
  assert.equal(floatToF16Bits(65520), 0x7c00); // rounds to inf
  assert.equal(floatToF16Bits(2 ** -24), 0x0001); // smallest subnormal
  assert.equal(floatToF16Bits(2 ** -25), 0x0000); // tie -> even (0)
  assert.equal(floatToF16Bits(1.5 * 2 ** -25), 0x0001);
  assert.equal(floatToF16Bits(1 + 2 ** -11), 0x3c00); // tie -> even
  assert.equal(floatToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(floatToF16Bits(NaN) & 0x7e00, 0x7e00);
  // every finite f16 value round-trips through float32
  const t = f16LookupTable();
  for (let h = 0; h < 65536; h++) {
    if ((h & 0x7c00) === 0x7c00) continue;
    assert.equal(floatToF16Bits(t[h]!), h, `f16 bits ${h.toString(16)}`);
  }
  assert.equal(floatToBF16Bits(1), 0x3f80);
  assert.equal(floatToBF16Bits(1 + 2 ** -8), 0x3f80); // tie -> even
  assert.equal(floatToBF16Bits(1 + 3 * 2 ** -8), 0x3f82);
  const x = new Tensor(Float32Array.from([0.1, -3.25, 1e-3, 65504, 1e-8]), [5]);
  const p = join(dir, 'half.safetensors');
  for (const dtype of ['F16', 'BF16'] as const) {
    saveSafetensors(p, { x }, { dtype });
    const y = loadSafetensors(p).get('x')!;
    assert.equal(openSafetensors(p).info('x').dtype, dtype);
    for (let k = 0; k < 5; k++) {
      const v = x.data[k]!;
      const rel = Math.abs(y.data[k]! - v) / Math.abs(v);
      assert.ok(
        rel <= (dtype === 'F16' ? (Math.abs(v) < 6e-5 ? 1 : 1e-3) : 8e-3),
        `${dtype} ${v} -> ${y.data[k]}`,
      );
    }
  }
});

test('header validation: clear errors naming the tensor and the problem', () => {
  const data = new Uint8Array(16);
  const cases: [unknown, RegExp][] = [
    [{ a: { dtype: 'F32', shape: [4], data_offsets: [0, 20] } }, /tensor 'a'.*out of range/],
    [
      { a: { dtype: 'F32', shape: [5], data_offsets: [0, 16] } },
      /tensor 'a'.*needs 20 bytes but data_offsets span 16/,
    ],
    [
      { a: { dtype: 'Q7', shape: [4], data_offsets: [0, 16] } },
      /tensor 'a': unsupported dtype "Q7"/,
    ],
    [{ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 16] } }, /tensor 'a': shape must be/],
    [
      {
        a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
        b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
      },
      /overlaps/,
    ],
    [
      { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } },
      /cover 8 bytes but the data block has 16/,
    ],
    [{ a: { dtype: 'F32', shape: [2 ** 40], data_offsets: [0, 16] } }, /needs 4398046511104 bytes/],
    [{ __metadata__: { a: 1 } }, /__metadata__\.a must be a string/],
  ];
  for (const [h, re] of cases) {
    const p = writeTmp('bad.safetensors', header(h, data));
    assert.throws(() => openSafetensors(p), re);
  }
  const big = Buffer.alloc(16);
  big.writeBigUInt64LE(2n ** 60n);
  assert.throws(
    () => openSafetensors(writeTmp('big.safetensors', big)),
    /header length .* exceeds/,
  );
  assert.throws(
    () => openSafetensors(writeTmp('short.safetensors', Buffer.from('abc'))),
    /at least 8/,
  );
  const notJson = header({}).subarray(0, 8);
  Buffer.from(notJson).writeBigUInt64LE(4n);
  assert.throws(
    () =>
      openSafetensors(
        writeTmp(
          'nj.safetensors',
          Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')]),
        ),
      ),
    /not valid JSON/,
  );
  // I64 values outside int32
  const v = Buffer.alloc(8);
  v.writeBigInt64LE(2n ** 40n);
  const p = writeTmp(
    'i64.safetensors',
    header({ a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, v),
  );
  assert.throws(
    () => loadSafetensors(p),
    /tensor 'a': I64 value 1099511627776 at element 0 is outside the int32 range/,
  );
});

test('a failed write leaves the old file and no temporary file', () => {
  const p = join(dir, 'keep.safetensors');
  saveSafetensors(p, { a: new Tensor(Float32Array.from([1]), [1]) });
  const before = readFileSync(p);
  // the second tensor fails after the header and the first tensor were written
  const broken = new Tensor(Float32Array.from([2]), [1]);
  const real = broken.data;
  let reads = 0;
  Object.defineProperty(broken, 'data', {
    get(): typeof real {
      if (++reads > 1) throw new Error('disk full (simulated)');
      return real;
    },
  });
  assert.throws(
    () => saveSafetensors(p, { a: new Tensor(Float32Array.from([5]), [1]), b: broken }),
    /simulated/,
  );
  assert.throws(
    () => saveSafetensors(p, { __metadata__: new Tensor(Float32Array.from([1]), [1]) }),
    /reserved/,
  );
  assert.deepEqual(readFileSync(p), before);
  assert.equal(readdirSync(dir).filter((x) => x.includes('.tmp-')).length, 0);
  assert.ok(existsSync(p));
});

test('reads U8 / I8 / I16 / BOOL as int32', () => {
  const data = Buffer.from([255, 0x80, 0xff, 0xff, 0x01, 0x00, 2]);
  const p = writeTmp(
    'ints.safetensors',
    header(
      {
        u: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
        i8: { dtype: 'I8', shape: [1], data_offsets: [1, 2] },
        i16: { dtype: 'I16', shape: [2], data_offsets: [2, 6] },
        b: { dtype: 'BOOL', shape: [1], data_offsets: [6, 7] },
      },
      data,
    ),
  );
  const m = loadSafetensors(p);
  assert.deepEqual(m.get('u')!.toArray(), [255]);
  assert.deepEqual(m.get('i8')!.toArray(), [-128]);
  assert.deepEqual(m.get('i16')!.toArray(), [-1, 1]);
  assert.deepEqual(m.get('b')!.toArray(), [1]);
});
