// Storage dtypes of checkpoint files (safetensors names) and their decoding into our Tensor
// dtypes: floats -> float32 (F64 -> float64 on request), integers and BOOL -> int32.

import { endianness } from 'node:os';
import { Tensor } from '../tensor/tensor.js';
import type { Shape } from '../tensor/shape.js';
import { decodeBF16, decodeF16, encodeBF16, encodeF16 } from './half.js';

export type StoredDType =
  'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export const STORED_DTYPES: readonly StoredDType[] = [
  'F64',
  'F32',
  'F16',
  'BF16',
  'I64',
  'I32',
  'I16',
  'I8',
  'U8',
  'BOOL',
];

export function isStoredDType(s: string): s is StoredDType {
  return (STORED_DTYPES as readonly string[]).includes(s);
}

export function storedSize(dtype: StoredDType): number {
  switch (dtype) {
    case 'F64':
    case 'I64':
      return 8;
    case 'F32':
    case 'I32':
      return 4;
    case 'F16':
    case 'BF16':
    case 'I16':
      return 2;
    case 'I8':
    case 'U8':
    case 'BOOL':
      return 1;
    default:
      return dtype satisfies never;
  }
}

export function isStoredFloat(dtype: StoredDType): boolean {
  return dtype === 'F64' || dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}

export interface DecodeOptions {
  /** Keep F64 data as float64 (default: convert to float32). */
  keepF64?: boolean;
}

if (endianness() !== 'LE') {
  throw new Error('ddar io: checkpoint decoding assumes a little-endian host');
}

/** Decoded flat storage: float32 / float64 / int32 elements. */
export type DecodedArray = Float32Array | Float64Array | Int32Array;

/**
 * Decodes `n` little-endian elements of `dtype` from `bytes` (which must be 8-byte aligned in
 * its ArrayBuffer when the dtype is wider than one byte — callers allocate fresh buffers).
 * `what` names the tensor in error messages.
 */
export function decodeStored(
  bytes: Uint8Array,
  dtype: StoredDType,
  n: number,
  what: string,
  opts: DecodeOptions = {},
): DecodedArray {
  const need = n * storedSize(dtype);
  if (bytes.length < need) {
    throw new Error(`${what}: ${dtype} x ${n} needs ${need} bytes, found ${bytes.length}`);
  }
  const buf = bytes.buffer;
  const off = bytes.byteOffset;
  const aligned = off % 8 === 0;
  const src = aligned ? bytes : bytes.slice(0, need);
  const sbuf = aligned ? buf : src.buffer;
  const soff = aligned ? off : 0;
  // A buffer that holds exactly this tensor is adopted without a copy.
  const exact = soff === 0 && sbuf.byteLength === need;
  switch (dtype) {
    case 'F32':
      return new Float32Array(exact ? sbuf : sbuf.slice(soff, soff + need));
    case 'F64': {
      const f = new Float64Array(sbuf, soff, n);
      return opts.keepF64 === true ? Float64Array.from(f) : Float32Array.from(f);
    }
    case 'F16': {
      const out = new Float32Array(n);
      decodeF16(new Uint16Array(sbuf, soff, n), out);
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(n);
      decodeBF16(new Uint16Array(sbuf, soff, n), out);
      return out;
    }
    case 'I32':
      return new Int32Array(exact ? sbuf : sbuf.slice(soff, soff + need));
    case 'I64': {
      const w = new Int32Array(sbuf, soff, 2 * n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const lo = w[2 * i] as number;
        const hi = w[2 * i + 1] as number;
        if (hi !== lo >> 31) {
          const v = new BigInt64Array(sbuf, soff + 8 * i, 1)[0];
          throw new Error(
            `${what}: I64 value ${String(v)} at element ${i} is outside the int32 range; ` +
              'ddar stores integer tensors as int32 (HINT: such values cannot be token ids or indices)',
          );
        }
        out[i] = lo;
      }
      return out;
    }
    case 'I16':
      return Int32Array.from(new Int16Array(sbuf, soff, n));
    case 'I8':
      return Int32Array.from(new Int8Array(sbuf, soff, n));
    case 'U8':
      return Int32Array.from(new Uint8Array(sbuf, soff, n));
    case 'BOOL': {
      const u = new Uint8Array(sbuf, soff, n);
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = u[i] === 0 ? 0 : 1;
      return out;
    }
    default:
      return dtype satisfies never;
  }
}

export function decodeTensor(
  bytes: Uint8Array,
  dtype: StoredDType,
  shape: Shape,
  what: string,
  opts: DecodeOptions = {},
): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return new Tensor(decodeStored(bytes, dtype, n, what, opts), shape);
}

/** The stored dtype a tensor is written as, given the requested float / int storage. */
export function storedDTypeFor(
  t: Tensor,
  floatDType: 'F32' | 'F16' | 'BF16' | 'F64' | undefined,
  intDType: 'I32' | 'I64',
): StoredDType {
  if (t.dtype === 'int32') return intDType;
  if (floatDType !== undefined) return floatDType;
  return t.dtype === 'float64' ? 'F64' : 'F32';
}

/** Encodes a tensor's data as little-endian bytes of `dtype` (a fresh buffer). */
export function encodeTensor(t: Tensor, dtype: StoredDType, what: string): Uint8Array {
  const n = t.size;
  const d = t.data;
  const isInt = t.dtype === 'int32';
  if (isInt !== !isStoredFloat(dtype)) {
    throw new Error(`${what}: cannot store a ${t.dtype} tensor as ${dtype}`);
  }
  switch (dtype) {
    case 'F32':
      return new Uint8Array(Float32Array.from(d).buffer);
    case 'F64':
      return new Uint8Array(Float64Array.from(d).buffer);
    case 'F16': {
      const o = new Uint16Array(n);
      encodeF16(d, o);
      return new Uint8Array(o.buffer);
    }
    case 'BF16': {
      const o = new Uint16Array(n);
      encodeBF16(d, o);
      return new Uint8Array(o.buffer);
    }
    case 'I32':
      return new Uint8Array(Int32Array.from(d).buffer);
    case 'I64': {
      const o = new Int32Array(2 * n);
      for (let i = 0; i < n; i++) {
        const v = d[i] as number;
        o[2 * i] = v;
        o[2 * i + 1] = v < 0 ? -1 : 0;
      }
      return new Uint8Array(o.buffer);
    }
    case 'I16':
    case 'I8':
    case 'U8':
    case 'BOOL':
      throw new Error(`${what}: writing ${dtype} is not supported; use I32 or I64`);
    default:
      return dtype satisfies never;
  }
}
