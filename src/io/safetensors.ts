// safetensors read / write. Format: u64 little-endian header length N, N bytes of JSON
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
// data block; offsets are relative to the data block. Reads are lazy: the header is parsed
// and validated up front, each tensor's bytes are read on demand with positioned reads.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Tensor } from '../tensor/tensor.js';
import { writeAll, writeFileAtomic } from './atomic.js';
import {
  decodeTensor,
  encodeTensor,
  isStoredDType,
  storedDTypeFor,
  storedSize,
  type DecodeOptions,
  type StoredDType,
} from './stored-dtype.js';

/** Largest accepted JSON header (the reference implementation uses 100 MB too). */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  readonly dtype: StoredDType;
  readonly shape: readonly number[];
}

interface Entry extends TensorInfo {
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsFile {
  readonly path: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** Tensor names in file order (by data offset). */
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  get(name: string, opts?: DecodeOptions): Tensor;
}

function fail(path: string, msg: string): never {
  throw new Error(`safetensors ${path}: ${msg}`);
}

/** Reads exactly `length` bytes at `position` into a fresh, 8-byte-aligned buffer. */
export function readExact(fd: number, position: number, length: number, what: string): Uint8Array {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, Math.min(length - got, 1 << 30), position + got);
    if (n === 0) throw new Error(`${what}: file ended after ${got} of ${length} bytes`);
    got += n;
  }
  return out;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Parses and validates a header; `dataBytes` is the size of the data block. */
export function parseHeader(
  path: string,
  json: string,
  dataBytes: number,
): { entries: Map<string, Entry>; metadata: Record<string, string> } {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    fail(
      path,
      `header is not valid JSON (${(e as Error).message}); the file is corrupt or not safetensors`,
    );
  }
  if (!isRecord(raw)) fail(path, 'header must be a JSON object');
  const metadata: Record<string, string> = {};
  const entries = new Map<string, Entry>();
  for (const [name, v] of Object.entries(raw)) {
    if (name === '__metadata__') {
      if (!isRecord(v)) fail(path, '__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string')
          fail(path, `__metadata__.${k} must be a string, found ${typeof s}`);
        metadata[k] = s;
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (!isRecord(v)) fail(path, `${where}: expected {dtype, shape, data_offsets}`);
    const { dtype, shape, data_offsets: offs } = v;
    if (typeof dtype !== 'string' || !isStoredDType(dtype)) {
      fail(
        path,
        `${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL)`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(
        path,
        `${where}: shape must be an array of non-negative integers, found ${JSON.stringify(shape)}`,
      );
    }
    if (
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(path, `${where}: data_offsets must be [begin, end], found ${JSON.stringify(offs)}`);
    }
    const dims = shape as number[];
    const [begin, end] = offs as [number, number];
    if (end < begin || end > dataBytes) {
      fail(
        path,
        `${where}: data_offsets [${begin}, ${end}] out of range (data block has ${dataBytes} bytes); the file is truncated or corrupt`,
      );
    }
    let n = 1;
    for (const d of dims) n *= d;
    const need = n * storedSize(dtype);
    if (need !== end - begin) {
      fail(
        path,
        `${where}: ${dtype} [${dims.join(', ')}] needs ${need} bytes but data_offsets span ${end - begin}`,
      );
    }
    entries.set(name, { dtype, shape: dims, begin, end });
  }
  // Offsets must tile the data block in order, without overlap.
  const sorted = [...entries.entries()].sort(
    (a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end,
  );
  let pos = 0;
  for (const [name, e] of sorted) {
    if (e.begin < pos)
      fail(
        path,
        `tensor '${name}': data [${e.begin}, ${e.end}) overlaps the previous tensor (ends at ${pos})`,
      );
    if (e.begin > pos)
      fail(
        path,
        `tensor '${name}': gap of ${e.begin - pos} bytes before its data; the file is corrupt`,
      );
    pos = e.end;
  }
  if (pos !== dataBytes)
    fail(
      path,
      `tensors cover ${pos} bytes but the data block has ${dataBytes}; the file is corrupt`,
    );
  return { entries: new Map(sorted), metadata };
}

/** Opens a safetensors file: reads and validates the header only. */
export function openSafetensors(path: string): SafetensorsFile {
  const fd = openSync(path, 'r');
  let entries: Map<string, Entry>;
  let metadata: Record<string, string>;
  let dataStart: number;
  try {
    const size = fstatSync(fd).size;
    if (size < 8) fail(path, `file has ${size} bytes, expected at least 8 (header length)`);
    const lenBytes = readExact(fd, 0, 8, path);
    const len = new DataView(lenBytes.buffer).getBigUint64(0, true);
    if (len > BigInt(MAX_HEADER_BYTES)) {
      fail(
        path,
        `header length ${len} exceeds the ${MAX_HEADER_BYTES}-byte limit; this is not a safetensors file or it is corrupt`,
      );
    }
    const n = Number(len);
    if (8 + n > size)
      fail(path, `header length ${n} runs past the end of the ${size}-byte file (truncated?)`);
    const json = new TextDecoder('utf-8', { fatal: false }).decode(readExact(fd, 8, n, path));
    dataStart = 8 + n;
    ({ entries, metadata } = parseHeader(path, json, size - dataStart));
  } finally {
    closeSync(fd);
  }
  const entryOf = (name: string): Entry => {
    const e = entries.get(name);
    if (e === undefined) {
      fail(
        path,
        `no tensor named '${name}' (the file has ${entries.size}: ${[...entries.keys()].slice(0, 8).join(', ')}${entries.size > 8 ? ', ...' : ''})`,
      );
    }
    return e;
  };
  return {
    path,
    metadata,
    names: () => [...entries.keys()],
    has: (name) => entries.has(name),
    info: (name) => {
      const e = entryOf(name);
      return { dtype: e.dtype, shape: e.shape };
    },
    get: (name, opts = {}) => {
      const e = entryOf(name);
      const rfd = openSync(path, 'r');
      try {
        const bytes = readExact(
          rfd,
          dataStart + e.begin,
          e.end - e.begin,
          `safetensors ${path} tensor '${name}'`,
        );
        return decodeTensor(bytes, e.dtype, e.shape, `safetensors ${path} tensor '${name}'`, opts);
      } finally {
        closeSync(rfd);
      }
    },
  };
}

/** Loads every tensor of a safetensors file. */
export function loadSafetensors(path: string, opts: DecodeOptions = {}): Map<string, Tensor> {
  const f = openSafetensors(path);
  const out = new Map<string, Tensor>();
  for (const name of f.names()) out.set(name, f.get(name, opts));
  return out;
}

export interface SaveOptions {
  /** Storage dtype of float tensors (default: F32 for float32, F64 for float64). */
  dtype?: 'F32' | 'F16' | 'BF16' | 'F64';
  /** Storage dtype of int32 tensors (default I32). */
  intDtype?: 'I32' | 'I64';
  metadata?: Readonly<Record<string, string>>;
}

/** Writes tensors atomically (temp file, fsync, rename), in the given order. */
export function saveSafetensors(
  path: string,
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  opts: SaveOptions = {},
): void {
  const list: [string, Tensor][] =
    tensors instanceof Map
      ? [...tensors.entries()]
      : Object.entries(tensors as Record<string, Tensor>);
  const header: Record<string, unknown> = {};
  if (opts.metadata !== undefined) header['__metadata__'] = { ...opts.metadata };
  const plan: { name: string; t: Tensor; dtype: StoredDType }[] = [];
  let off = 0;
  for (const [name, t] of list) {
    if (name === '__metadata__')
      throw new Error(
        `saveSafetensors ${path}: '__metadata__' is reserved and cannot name a tensor`,
      );
    const dtype = storedDTypeFor(t, opts.dtype, opts.intDtype ?? 'I32');
    const nbytes = t.size * storedSize(dtype);
    header[name] = { dtype, shape: [...t.shape], data_offsets: [off, off + nbytes] };
    plan.push({ name, t, dtype });
    off += nbytes;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad > 0) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileAtomic(path, (fd) => {
    writeAll(fd, len);
    writeAll(fd, json);
    for (const { name, t, dtype } of plan)
      writeAll(fd, encodeTensor(t, dtype, `saveSafetensors ${path} tensor '${name}'`));
  });
}
