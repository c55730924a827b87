// Helpers for tests of src/io and its users: locating the shared parity fixtures, and
// building pickle programs / torch.save-style archives by hand (for malicious-input tests).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildZip } from './zip.js';

/** The shared fixtures folder (`../shared/fixtures` of the repo root), or null if absent. */
export function findFixturesDir(): string | null {
  let d = resolve(process.cwd());
  for (let i = 0; i < 8; i++) {
    for (const c of [join(d, '..', 'shared', 'fixtures'), join(d, 'shared', 'fixtures')]) {
      if (existsSync(join(c, 'README.md'))) return c;
    }
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return null;
}

/** A tiny pickle assembler: raw opcodes plus helpers for common operands. */
export class PickleWriter {
  private readonly parts: number[] = [];
  op(...bytes: number[]): this {
    this.parts.push(...bytes);
    return this;
  }
  proto(v = 2): this {
    return this.op(0x80, v);
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...Buffer.from(`${module}\n${name}\n`, 'latin1'));
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    const n = Buffer.alloc(4);
    n.writeUInt32LE(b.length);
    return this.op(0x58, ...n, ...b);
  }
  int(v: number): this {
    if (v >= 0 && v < 256) return this.op(0x4b, v);
    const n = Buffer.alloc(4);
    n.writeInt32LE(v);
    return this.op(0x4a, ...n);
  }
  mark(): this {
    return this.op(0x28);
  }
  tuple(): this {
    return this.op(0x74);
  }
  reduce(): this {
    return this.op(0x52);
  }
  emptyDict(): this {
    return this.op(0x7d);
  }
  setitem(): this {
    return this.op(0x73);
  }
  stop(): this {
    return this.op(0x2e);
  }
  /** torch._utils._rebuild_tensor_v2(<persistent storage>, offset, size, stride, False, OrderedDict()) */
  tensor(
    storageType: string,
    key: string,
    numel: number,
    offset: number,
    size: number[],
    stride: number[],
  ): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark()
      .str('storage')
      .global('torch', storageType)
      .str(key)
      .str('cpu')
      .int(numel)
      .tuple()
      .op(0x51);
    this.int(offset).mark();
    for (const s of size) this.int(s);
    this.tuple().mark();
    for (const s of stride) this.int(s);
    this.tuple().op(0x89).global('collections', 'OrderedDict').op(0x29).reduce();
    return this.tuple().reduce();
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** An archive laid out like torch.save: `<name>/data.pkl`, `<name>/data/<key>`, `<name>/version`. */
export function torchZip(
  pickle: Uint8Array,
  storages: Readonly<Record<string, Uint8Array>> = {},
  name = 'archive',
): Uint8Array {
  return buildZip([
    { name: `${name}/data.pkl`, data: pickle },
    ...Object.entries(storages).map(([k, data]) => ({ name: `${name}/data/${k}`, data })),
    { name: `${name}/version`, data: Buffer.from('3\n') },
  ]);
}
