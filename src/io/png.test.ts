import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import { decodePng, encodePng, readPng, writePng, type RawImage } from './png.js';

const dir = mkdtempSync(join(tmpdir(), 'ddar-png-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24;
  };
}

function randomImage(
  w: number,
  h: number,
  ch: 1 | 2 | 3 | 4,
  seed: number,
  smooth = false,
): RawImage {
  const r = rng(seed);
  const data = new Uint8Array(w * h * ch);
  for (let i = 0; i < data.length; i++)
    data[i] = smooth ? ((i % (w * ch)) * 3 + Math.floor(i / (w * ch)) * 5 + (r() & 3)) & 0xff : r();
  return { width: w, height: h, channels: ch, data };
}

function have(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('round trip is byte-exact for odd sizes in every color type', () => {
  for (const [w, h] of [
    [1, 1],
    [7, 3],
    [33, 17],
  ] as const) {
    for (const ch of [1, 2, 3, 4] as const) {
      for (const smooth of [false, true]) {
        const img = randomImage(w, h, ch, w * 100 + ch, smooth);
        const back = decodePng(encodePng(img));
        assert.equal(back.width, w);
        assert.equal(back.height, h);
        assert.equal(back.channels, ch);
        assert.deepEqual(back.data, img.data, `${w}x${h}x${ch}`);
      }
    }
  }
  const p = join(dir, 'a.png');
  const img = randomImage(5, 4, 3, 1);
  writePng(p, img);
  assert.deepEqual(readPng(p).data, img.data);
});

function chunk(type: string, body: Uint8Array): Buffer {
  const b = Buffer.alloc(12 + body.length);
  b.writeUInt32BE(body.length, 0);
  b.write(type, 4, 'latin1');
  b.set(body, 8);
  b.writeUInt32BE(crc32(b.subarray(4, 8 + body.length)), 8 + body.length);
  return b;
}

function ihdr(w: number, h: number, depth: number, colorType: number, interlace = 0): Buffer {
  const b = Buffer.alloc(13);
  b.writeUInt32BE(w, 0);
  b.writeUInt32BE(h, 4);
  b[8] = depth;
  b[9] = colorType;
  b[12] = interlace;
  return chunk('IHDR', b);
}

const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

test('decodes each of the five filter types (independent encoder)', () => {
  const img = randomImage(9, 5, 3, 42);
  const rb = 27;
  const bpp = 3;
  for (let ft = 0; ft < 5; ft++) {
    const raw = Buffer.alloc(5 * (rb + 1));
    for (let y = 0; y < 5; y++) {
      raw[y * (rb + 1)] = ft;
      for (let x = 0; x < rb; x++) {
        const at = (yy: number, xx: number): number =>
          yy < 0 || xx < 0 ? 0 : img.data[yy * rb + xx]!;
        const a = at(y, x - bpp);
        const b = at(y - 1, x);
        const c = at(y - 1, x - bpp);
        const p = a + b - c;
        const pr =
          Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
            ? a
            : Math.abs(p - b) <= Math.abs(p - c)
              ? b
              : c;
        const pred = [0, a, b, Math.floor((a + b) / 2), pr][ft]!;
        raw[y * (rb + 1) + 1 + x] = (img.data[y * rb + x]! - pred) & 0xff;
      }
    }
    const png = Buffer.concat([
      SIG,
      ihdr(9, 5, 8, 2),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', new Uint8Array(0)),
    ]);
    assert.deepEqual(decodePng(png).data, img.data, `filter ${ft}`);
  }
});

test('palette + tRNS, 16-bit and 1-bit gray decode with notes', () => {
  const plte = chunk('PLTE', Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255]));
  const trns = chunk('tRNS', Uint8Array.from([128]));
  const idx = deflateSync(Uint8Array.from([0, 0, 1, 2, 0, 2, 1, 0]));
  const pal = decodePng(
    Buffer.concat([
      SIG,
      ihdr(3, 2, 8, 3),
      plte,
      trns,
      chunk('IDAT', idx),
      chunk('IEND', new Uint8Array(0)),
    ]),
  );
  assert.equal(pal.channels, 4);
  assert.deepEqual([...pal.data.subarray(0, 12)], [255, 0, 0, 128, 0, 255, 0, 255, 0, 0, 255, 255]);
  assert.match(pal.notes.join(';'), /palette expanded to RGBA/);
  const g16 = deflateSync(Uint8Array.from([0, 0xff, 0xff, 0x80, 0x00, 0x00, 0x01]));
  const d16 = decodePng(
    Buffer.concat([SIG, ihdr(3, 1, 16, 0), chunk('IDAT', g16), chunk('IEND', new Uint8Array(0))]),
  );
  assert.deepEqual([...d16.data], [255, 128, 0]);
  assert.match(d16.notes.join(';'), /16-bit samples reduced to 8-bit/);
  const g1 = deflateSync(Uint8Array.from([0, 0b10100000]));
  const d1 = decodePng(
    Buffer.concat([SIG, ihdr(3, 1, 1, 0), chunk('IDAT', g1), chunk('IEND', new Uint8Array(0))]),
  );
  assert.deepEqual([...d1.data], [255, 0, 255]);
});

test('Adam7 interlaced image decodes (independent interlacer)', () => {
  const w = 11;
  const h = 9;
  const img = randomImage(w, h, 4, 7);
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ];
  const rows: number[] = [];
  for (const [x0, y0, dx, dy] of passes) {
    for (let y = y0!; y < h; y += dy!) {
      const line: number[] = [];
      for (let x = x0!; x < w; x += dx!)
        line.push(...img.data.subarray((y * w + x) * 4, (y * w + x) * 4 + 4));
      if (line.length > 0) rows.push(0, ...line);
    }
  }
  const png = Buffer.concat([
    SIG,
    ihdr(w, h, 8, 6, 1),
    chunk('IDAT', deflateSync(Uint8Array.from(rows))),
    chunk('IEND', new Uint8Array(0)),
  ]);
  const d = decodePng(png);
  assert.deepEqual(d.data, img.data);
  assert.match(d.notes.join(';'), /Adam7/);
});

test('corrupt PNGs give clear errors', () => {
  const good = Buffer.from(encodePng(randomImage(4, 4, 3, 3)));
  const flipped = Buffer.from(good);
  flipped[40] = flipped[40]! ^ 0x10;
  assert.throws(() => decodePng(flipped), /CRC mismatch|corrupt/);
  assert.throws(() => decodePng(good.subarray(0, good.length - 6)), /truncated|runs past|IEND/);
  assert.throws(() => decodePng(Buffer.from('GIF89a...')), /not a PNG/);
  const huge = Buffer.concat([
    SIG,
    ihdr(100000, 100000, 8, 6),
    chunk('IDAT', deflateSync(Buffer.alloc(10))),
    chunk('IEND', new Uint8Array(0)),
  ]);
  assert.throws(() => decodePng(huge), /too large/);
});

const python = have('python3', ['-c', 'import zlib']);

test('python3 (zlib + hand unfilter) reads what we write', { skip: !python }, () => {
  const img = randomImage(33, 17, 3, 9, true);
  const p = join(dir, 'py.png');
  writePng(p, img);
  const script = `
import sys, zlib, struct
b = open(sys.argv[1], 'rb').read(); pos = 8; idat = b''
while pos < len(b):
    n, = struct.unpack('>I', b[pos:pos+4]); t = b[pos+4:pos+8]
    if t == b'IHDR': w, h = struct.unpack('>II', b[pos+8:pos+16])
    if t == b'IDAT': idat += b[pos+8:pos+8+n]
    pos += 12 + n
raw = zlib.decompress(idat); rb = w * 3; out = bytearray(); prev = bytearray(rb)
for y in range(h):
    f = raw[y*(rb+1)]; line = bytearray(raw[y*(rb+1)+1:(y+1)*(rb+1)])
    for x in range(rb):
        a = line[x-3] if x >= 3 else 0; bb = prev[x]; c = prev[x-3] if x >= 3 else 0
        p = a + bb - c; pa, pb, pc = abs(p-a), abs(p-bb), abs(p-c)
        pr = a if pa <= pb and pa <= pc else (bb if pb <= pc else c)
        line[x] = (line[x] + [0, a, bb, (a+bb)//2, pr][f]) & 255
    out += line; prev = line
sys.stdout.write(out.hex())
`;
  const hex = execFileSync('python3', ['-c', script, p]).toString();
  assert.equal(hex, Buffer.from(img.data).toString('hex'));
});
