// Fuzzing of the checkpoint and image readers: truncations, bit flips and hand-crafted
// malicious files must all end in a clear Error — never a crash, a hang, a huge allocation,
// or (for pickles) anything being executed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync as readFile, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tensor } from '../src/tensor/tensor.js';
import { crc32 } from '../src/io/crc32.js';
import { decodePng, encodePng } from '../src/io/png.js';
import { loadSafetensors, saveSafetensors } from '../src/io/safetensors.js';
import { PickleWriter, torchZip } from '../src/io/testing.js';
import { loadTorchCheckpoint } from '../src/io/torch.js';
import { buildZip, openZip } from '../src/io/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'ddar-fuzz-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(bytes: Uint8Array, ext: string): string {
  const p = join(dir, `f${counter++}${ext}`);
  writeFileSync(p, bytes);
  return p;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** Runs `f`; it must either succeed or throw an Error with a non-empty message. */
function survives(f: () => unknown, what: string): 'ok' | 'error' {
  try {
    f();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof Error, `${what}: threw a non-Error ${String(e)}`);
    assert.ok(e.message.length > 10, `${what}: unhelpful message '${e.message}'`);
    assert.ok(
      !(
        e instanceof RangeError &&
        /Array buffer allocation|Invalid typed array length/.test(e.message)
      ),
      `${what}: allocation failure ${e.message}`,
    );
    return 'error';
  }
}

function validPt(): Uint8Array {
  const w = new PickleWriter().proto(2).emptyDict();
  w.str('model').emptyDict();
  w.str('w').tensor('FloatStorage', '0', 6, 0, [2, 3], [3, 1]).setitem();
  w.str('idx').tensor('LongStorage', '1', 2, 0, [2], [1]).setitem();
  w.setitem().str('epoch').int(3).setitem().stop();
  const longs = new Int32Array([5, 0, -1, -1]);
  return torchZip(w.bytes(), {
    '0': new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer),
    '1': new Uint8Array(longs.buffer),
  });
}

function validSafetensors(): Uint8Array {
  const p = join(dir, 'valid.safetensors');
  saveSafetensors(
    p,
    {
      a: new Tensor(Float32Array.from([1, 2, 3]), [3]),
      b: new Tensor(Int32Array.from([7, 8]), [2, 1]),
    },
    { dtype: 'F16', metadata: { k: 'v' } },
  );
  return new Uint8Array(readFile(p));
}

test('the valid seeds load', () => {
  const m = loadTorchCheckpoint(file(validPt(), '.pt'));
  assert.deepEqual(m.get('w')!.toArray(), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(m.get('idx')!.toArray(), [5, -1]);
  assert.deepEqual(
    loadSafetensors(file(validSafetensors(), '.safetensors')).get('a')!.toArray(),
    [1, 2, 3],
  );
});

test('truncated files at many lengths fail cleanly', () => {
  const seeds: [Uint8Array, string, (p: string) => unknown][] = [
    [validPt(), '.pt', (p) => loadTorchCheckpoint(p)],
    [validSafetensors(), '.safetensors', (p) => loadSafetensors(p)],
    [
      encodePng({
        width: 7,
        height: 3,
        channels: 4,
        data: new Uint8Array(84).map((_, i) => i * 3),
      }),
      '.png',
      (p) => decodePng(readFile(p)),
    ],
  ];
  for (const [bytes, ext, load] of seeds) {
    let errors = 0;
    for (let n = 0; n < bytes.length; n++) {
      if (
        survives(() => load(file(bytes.subarray(0, n), ext)), `${ext} truncated to ${n}`) ===
        'error'
      )
        errors++;
    }
    assert.equal(errors, bytes.length, `${ext}: every strict prefix must be rejected`);
  }
});

test('random bit flips never crash', () => {
  const r = rng(1234);
  const seeds: [Uint8Array, string, (p: string) => unknown][] = [
    [validPt(), '.pt', (p) => loadTorchCheckpoint(p)],
    [validSafetensors(), '.safetensors', (p) => loadSafetensors(p)],
    [
      encodePng({ width: 9, height: 5, channels: 3, data: new Uint8Array(135).map((_, i) => i) }),
      '.png',
      (p) => decodePng(readFile(p)),
    ],
  ];
  for (const [bytes, ext, load] of seeds) {
    for (let trial = 0; trial < 400; trial++) {
      const b = Buffer.from(bytes);
      const flips = 1 + Math.floor(r() * 3);
      for (let k = 0; k < flips; k++) {
        const i = Math.floor(r() * b.length);
        b[i] = b[i]! ^ (1 << Math.floor(r() * 8));
      }
      survives(() => load(file(b, ext)), `${ext} flip trial ${trial}`);
    }
  }
});

function maliciousPt(build: (w: PickleWriter) => void): string {
  const w = new PickleWriter().proto(2);
  build(w);
  return file(torchZip(w.stop().bytes()), '.pt');
}

test('pickles calling os.system, builtins.eval, _load_from_bytes, ... are refused before anything runs', () => {
  const marker = join(dir, 'PWNED');
  const cases: [string, string, RegExp][] = [
    [
      'os',
      'system',
      /refused pickle global os\.system: only torch tensor rebuild calls and containers are allowed/,
    ],
    ['builtins', 'eval', /refused pickle global builtins\.eval/],
    ['builtins', 'exec', /refused pickle global builtins\.exec/],
    ['subprocess', 'Popen', /refused pickle global subprocess\.Popen/],
    [
      'torch.storage',
      '_load_from_bytes',
      /refused pickle global torch\.storage\._load_from_bytes: .*legacy/,
    ],
    ['builtins', 'getattr', /refused pickle global builtins\.getattr/],
    [
      'numpy.core.multiarray',
      '_reconstruct',
      /refused pickle global numpy\.core\.multiarray\._reconstruct/,
    ],
  ];
  for (const [mod, name, re] of cases) {
    // GLOBAL 'mod name', a string argument, TUPLE1, REDUCE
    const p = maliciousPt((w) => w.global(mod, name).str(`touch ${marker}`).op(0x85).reduce());
    assert.throws(() => loadTorchCheckpoint(p), re);
    // STACK_GLOBAL form (protocol 4)
    const p4 = maliciousPt((w) => w.str(mod).str(name).op(0x93).str('x').op(0x85).reduce());
    assert.throws(() => loadTorchCheckpoint(p4), re);
  }
  // INST / OBJ route through the same allow-list
  const inst = maliciousPt((w) =>
    w
      .mark()
      .str('id')
      .op(0x69, ...Buffer.from('os\nsystem\n')),
  );
  assert.throws(() => loadTorchCheckpoint(inst), /refused pickle global os\.system/);
  // an allowed global cannot be called with forged arguments into something else
  const forged = maliciousPt((w) => w.global('torch', 'FloatStorage').str('x').op(0x85).reduce());
  assert.throws(() => loadTorchCheckpoint(forged), /not callable here/);
  const ext = maliciousPt((w) => w.op(0x82, 1));
  assert.throws(() => loadTorchCheckpoint(ext), /EXT1\/2\/4\) are refused/);
  assert.throws(() => readFile(marker), /ENOENT/);
});

test('malformed pickles: stack underflow, bad memo, huge lengths', () => {
  const cases: [(w: PickleWriter) => void, RegExp][] = [
    [(w) => w.reduce(), /stack underflow/],
    [(w) => w.op(0x68, 9), /memo key 9 was never stored/],
    [(w) => w.op(0x58, 0xff, 0xff, 0xff, 0x7f), /truncated: needs 2147483647 more bytes/],
    [(w) => w.op(0x8d, 0, 0, 0, 0, 0, 0, 0, 0x10), /declared length .* exceeds/],
    [(w) => w.op(0xff), /unknown opcode 0xff/],
    [(w) => w.mark().op(0x74).op(0x74), /MARK expected but missing/],
    [(w) => w.op(0x7d).int(1).setitem(), /stack underflow/],
  ];
  for (const [build, re] of cases) assert.throws(() => loadTorchCheckpoint(maliciousPt(build)), re);
});

test('safetensors: out-of-range offsets, huge shapes, 2^60 header length are refused', () => {
  const mk = (h: unknown, data = 8): string => {
    const json = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return file(Buffer.concat([len, json, Buffer.alloc(data)]), '.safetensors');
  };
  assert.throws(
    () => loadSafetensors(mk({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 1e12] } })),
    /tensor 'a'.*out of range/,
  );
  assert.throws(
    () => loadSafetensors(mk({ a: { dtype: 'F32', shape: [2 ** 40], data_offsets: [0, 8] } })),
    /tensor 'a'.*needs 4398046511104 bytes/,
  );
  assert.throws(
    () =>
      loadSafetensors(
        mk({ a: { dtype: 'F32', shape: [2 ** 26, 2 ** 26, 2 ** 26], data_offsets: [0, 8] } }),
      ),
    /tensor 'a'/,
  );
  assert.throws(
    () => loadSafetensors(mk({ a: { dtype: 'F32', shape: [2], data_offsets: [-8, 0] } })),
    /tensor 'a': data_offsets/,
  );
  const big = Buffer.alloc(64);
  big.writeBigUInt64LE(2n ** 60n);
  assert.throws(
    () => loadSafetensors(file(big, '.safetensors')),
    /header length 1152921504606846976 exceeds/,
  );
  const past = Buffer.alloc(64);
  past.writeBigUInt64LE(1000n);
  assert.throws(() => loadSafetensors(file(past, '.safetensors')), /runs past the end/);
});

test('torch: lying sizes in storages, shapes and zip entries are refused without allocating', () => {
  // a declared numel of 2^40 floats against a 24-byte entry
  const w = new PickleWriter().proto(2).emptyDict();
  w.str('a')
    .tensor('FloatStorage', '0', 2 ** 31 - 1, 0, [2 ** 31 - 1], [1])
    .setitem()
    .stop();
  const lie = file(torchZip(w.bytes(), { '0': new Uint8Array(24) }), '.pt');
  assert.throws(
    () => loadTorchCheckpoint(lie),
    /declares 2147483647 x F32 .* but its entry holds 24/,
  );
  // a huge shape product over a small storage
  const w2 = new PickleWriter().proto(2).emptyDict();
  w2.str('a')
    .tensor('FloatStorage', '0', 6, 0, [1 << 20, 1 << 20], [1, 1])
    .setitem()
    .stop();
  assert.throws(
    () => loadTorchCheckpoint(file(torchZip(w2.bytes(), { '0': new Uint8Array(24) }), '.pt')),
    /reaches beyond its storage/,
  );
  // a zip whose directory declares a larger size than the stored bytes
  const z = Buffer.from(
    buildZip([{ name: 'a/data.pkl', data: new PickleWriter().proto(2).op(0x4e).stop().bytes() }]),
  );
  const cen = z.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  z.writeUInt32LE(0x7fffffff, cen + 24); // uncompressed size
  assert.throws(
    () => openZip(file(z, '.zip')),
    /declares 2147483647 bytes but \d+ compressed bytes/,
  );
  const z2 = Buffer.from(buildZip([{ name: 'a/data.pkl', data: new Uint8Array(10) }]));
  const cen2 = z2.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  z2.writeUInt32LE(0x7ffffff0, cen2 + 20);
  z2.writeUInt32LE(0x7ffffff0, cen2 + 24);
  assert.throws(() => openZip(file(z2, '.zip')), /runs past the end/);
  // a directory claiming 65535 entries
  const z3 = Buffer.from(buildZip([{ name: 'x', data: new Uint8Array(1) }]));
  z3.writeUInt16LE(0xfffe, z3.length - 12);
  assert.throws(() => openZip(file(z3, '.zip')), /does not fit/);
});

test('PNG: a huge declared size with tiny data is refused', () => {
  const png = Buffer.from(
    encodePng({ width: 2, height: 2, channels: 3, data: new Uint8Array(12) }),
  );
  png.writeUInt32BE(30000, 16);
  png.writeUInt32BE(30000, 20);
  assert.throws(() => decodePng(png), /CRC mismatch in chunk IHDR/);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  assert.throws(() => decodePng(png), /image size 30000x30000 is empty or too large/);
  png.writeUInt32BE(3000, 16);
  png.writeUInt32BE(3000, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  assert.throws(() => decodePng(png), /inflates to \d+ bytes, expected 27003000/);
});
