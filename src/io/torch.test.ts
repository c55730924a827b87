import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { loadCheckpoint, openCheckpoint } from './checkpoint.js';
import { loadSafetensors } from './safetensors.js';
import { findFixturesDir, PickleWriter, torchZip } from './testing.js';
import { loadTorchCheckpoint } from './torch.js';

const dir = mkdtempSync(join(tmpdir(), 'ddar-pt-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const fixtures = findFixturesDir();

// Where each fixture's weights.pt keeps its state dict (see each README).
const KEYS: Readonly<Record<string, string>> = { var_dd: 'trainer.ema_parameters' };

function bytesOf(t: Tensor): Buffer {
  return Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

test(
  'every fixture: weights.pt and weights.safetensors hold identical tensors',
  { skip: fixtures === null },
  () => {
    const root = fixtures as string;
    let checked = 0;
    for (const name of readdirSync(root)) {
      const pt = join(root, name, 'weights.pt');
      if (!existsSync(pt)) continue;
      const a = loadTorchCheckpoint(pt, KEYS[name] !== undefined ? { key: KEYS[name] } : {});
      const b = loadSafetensors(join(root, name, 'weights.safetensors'));
      assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${name}: tensor names`);
      for (const [k, t] of b) {
        const u = a.get(k) as Tensor;
        assert.equal(u.dtype, t.dtype, `${name} ${k} dtype`);
        assert.deepEqual(u.shape, t.shape, `${name} ${k} shape`);
        assert.ok(bytesOf(u).equals(bytesOf(t)), `${name} ${k}: data differs`);
      }
      checked++;
    }
    assert.ok(checked >= 6, `checked ${checked} fixtures`);
  },
);

test('fid_inception float16 safetensors loads as float32', { skip: fixtures === null }, () => {
  const p = join(fixtures as string, 'fid_inception', 'weights.safetensors');
  const src = openCheckpoint(p);
  assert.ok(src.entries.length > 100);
  assert.ok(src.entries.some((e) => e.dtype === 'F16'));
  const m = loadCheckpoint(p);
  let finite = 0;
  let total = 0;
  for (const t of m.values()) {
    if (t.dtype !== 'float32') continue;
    for (const v of t.data) {
      total++;
      if (Number.isFinite(v)) finite++;
    }
  }
  assert.ok(total > 1_000_000);
  assert.equal(finite, total);
});

test('automatic state-dict selection and --key navigation', { skip: fixtures === null }, () => {
  const root = fixtures as string;
  assert.equal(openCheckpoint(join(root, 'llamagen_gpt', 'weights.pt')).key, 'model');
  assert.equal(openCheckpoint(join(root, 'llamagen_dd', 'weights.pt')).key, 'ema');
  assert.equal(openCheckpoint(join(root, 'var_teacher', 'weights.pt')).key, null);
  assert.throws(
    () => loadTorchCheckpoint(join(root, 'var_dd', 'weights.pt')),
    /top-level keys: trainer; state dicts found at: trainer\.ema_parameters, trainer\.var_wo_ddp\. HINT: pass --key/,
  );
  assert.throws(
    () => loadTorchCheckpoint(join(root, 'var_dd', 'weights.pt'), { key: 'trainer.nope' }),
    /--key 'trainer\.nope' not found; keys at 'trainer': ema_parameters, var_wo_ddp/,
  );
  const a = loadTorchCheckpoint(join(root, 'var_dd', 'weights.pt'), { key: 'trainer.var_wo_ddp' });
  assert.ok(a.size > 10);
});

function f32bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function writePt(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

test('strided and offset views into a shared storage are materialised', () => {
  const storage = f32bytes([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').op(0x29).reduce();
  // a: the 3x4 matrix; t: its transpose (stride [1, 4]); v: rows 1..2 (offset 4); c: column 2; e: epoch (skipped)
  w.str('a').tensor('FloatStorage', '0', 12, 0, [3, 4], [4, 1]).setitem();
  w.str('t').tensor('FloatStorage', '0', 12, 0, [4, 3], [1, 4]).setitem();
  w.str('v').tensor('FloatStorage', '0', 12, 4, [2, 4], [4, 1]).setitem();
  w.str('c').tensor('FloatStorage', '0', 12, 2, [3], [4]).setitem();
  w.str('x').tensor('FloatStorage', '0', 12, 1, [2, 2], [0, 1]).setitem();
  w.str('epoch').int(7).setitem();
  w.stop();
  const p = writePt('views.pt', torchZip(w.bytes(), { '0': storage }));
  const m = loadTorchCheckpoint(p);
  assert.deepEqual([...m.keys()], ['a', 't', 'v', 'c', 'x']);
  assert.deepEqual(m.get('t')!.toArray(), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  assert.deepEqual(m.get('v')!.toArray(), [4, 5, 6, 7, 8, 9, 10, 11]);
  assert.deepEqual(m.get('c')!.toArray(), [2, 6, 10]);
  assert.deepEqual(m.get('x')!.toArray(), [1, 2, 1, 2]);
  assert.deepEqual(m.get('a')!.shape, [3, 4]);
});

test('views reaching beyond the storage and storages larger than their entry are refused', () => {
  const w = new PickleWriter().proto(2).emptyDict();
  w.str('a').tensor('FloatStorage', '0', 4, 2, [3], [1]).setitem().stop();
  assert.throws(
    () =>
      loadTorchCheckpoint(writePt('oob.pt', torchZip(w.bytes(), { '0': f32bytes([1, 2, 3, 4]) }))),
    /reaches beyond its storage 0/,
  );
  const w2 = new PickleWriter().proto(2).emptyDict();
  w2.str('a')
    .tensor('FloatStorage', '0', 1 << 30, 0, [1 << 30], [1])
    .setitem()
    .stop();
  assert.throws(
    () => loadTorchCheckpoint(writePt('lie.pt', torchZip(w2.bytes(), { '0': f32bytes([1]) }))),
    /declares 1073741824 x F32 = 4294967296 bytes but its entry holds 4/,
  );
});

test('legacy (non-zip) torch files get a clear error', () => {
  const legacy = Buffer.from([
    0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e,
  ]);
  assert.throws(
    () => loadTorchCheckpoint(writePt('legacy.pt', legacy)),
    /legacy torch serialization.*torch>=1\.6/,
  );
  assert.throws(
    () => loadTorchCheckpoint(writePt('junk.pt', Buffer.from('hello world'))),
    /not a PyTorch checkpoint/,
  );
});
