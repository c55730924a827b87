// A bounds-checked zip reader (central directory; stored and deflate entries; zip64) and a
// minimal stored-entry writer. Reads use positioned reads on a file descriptor, so only the
// directory and the requested entries are ever in memory.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { crc32 } from './crc32.js';

export interface ZipEntry {
  readonly name: string;
  readonly method: number; // 0 stored, 8 deflate
  readonly compressedSize: number;
  readonly size: number;
  readonly crc: number;
  readonly localHeaderOffset: number;
}

export interface ZipReader {
  readonly path: string;
  readonly entries: ReadonlyMap<string, ZipEntry>;
  /** The entry's uncompressed bytes in a fresh buffer (CRC checked unless disabled). */
  read(name: string, opts?: { verifyCrc?: boolean }): Uint8Array;
  close(): void;
}

const EOCD_SIG = 0x06054b50;
const EOCD64_SIG = 0x06064b50;
const EOCD64_LOC_SIG = 0x07064b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const MAX_ENTRIES = 1_000_000;

function readAt(fd: number, pos: number, len: number, fileSize: number, what: string): Buffer {
  if (pos < 0 || len < 0 || pos + len > fileSize) {
    throw new Error(
      `${what}: bytes [${pos}, ${pos + len}) are outside the ${fileSize}-byte file (truncated or corrupt zip)`,
    );
  }
  const b = Buffer.alloc(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, b, got, Math.min(len - got, 1 << 30), pos + got);
    if (n === 0) throw new Error(`${what}: unexpected end of file`);
    got += n;
  }
  return b;
}

function u64(b: Buffer, off: number, what: string): number {
  const v = b.readBigUInt64LE(off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    throw new Error(`${what}: 64-bit size ${v} is not plausible`);
  return Number(v);
}

export function openZip(path: string): ZipReader {
  const fd = openSync(path, 'r');
  try {
    return openZipFd(path, fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function openZipFd(path: string, fd: number): ZipReader {
  const what = `zip ${path}`;
  const fileSize = fstatSync(fd).size;
  if (fileSize < 22) throw new Error(`${what}: ${fileSize} bytes is too small for a zip archive`);
  // End of central directory: last 22 bytes plus up to 65535 bytes of comment.
  const tailLen = Math.min(fileSize, 22 + 65535);
  const tail = readAt(fd, fileSize - tailLen, tailLen, fileSize, what);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + 22 + tail.readUInt16LE(i + 20) <= tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new Error(`${what}: no end-of-central-directory record (not a zip file, or truncated)`);
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  const eocdPos = fileSize - tailLen + eocd;
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    if (eocdPos < 20) throw new Error(`${what}: zip64 locator missing`);
    const loc = readAt(fd, eocdPos - 20, 20, fileSize, what);
    if (loc.readUInt32LE(0) !== EOCD64_LOC_SIG)
      throw new Error(`${what}: zip64 locator missing or corrupt`);
    const e64pos = u64(loc, 8, what);
    const e64 = readAt(fd, e64pos, 56, fileSize, what);
    if (e64.readUInt32LE(0) !== EOCD64_SIG) throw new Error(`${what}: zip64 end record corrupt`);
    count = u64(e64, 32, what);
    cdSize = u64(e64, 40, what);
    cdOffset = u64(e64, 48, what);
  }
  if (count > MAX_ENTRIES)
    throw new Error(`${what}: ${count} entries exceeds the limit of ${MAX_ENTRIES}`);
  if (cdOffset + cdSize > fileSize || cdSize < 46 * count) {
    throw new Error(
      `${what}: central directory (offset ${cdOffset}, ${cdSize} bytes, ${count} entries) does not fit the ${fileSize}-byte file`,
    );
  }
  const cd = readAt(fd, cdOffset, cdSize, fileSize, what);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CEN_SIG)
      throw new Error(`${what}: central directory entry ${i} is corrupt`);
    const flags = cd.readUInt16LE(p + 8);
    const method = cd.readUInt16LE(p + 10);
    const crc = cd.readUInt32LE(p + 16);
    let csize = cd.readUInt32LE(p + 20);
    let size = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let lho = cd.readUInt32LE(p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length)
      throw new Error(`${what}: central directory entry ${i} runs past the directory`);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extended information: only the fields that are 0xffffffff are present, in order.
    let x = p + 46 + nameLen;
    const xend = x + extraLen;
    while (x + 4 <= xend) {
      const id = cd.readUInt16LE(x);
      const len = cd.readUInt16LE(x + 2);
      if (x + 4 + len > xend) break;
      if (id === 0x0001) {
        let q = x + 4;
        const take = (): number => {
          if (q + 8 > x + 4 + len)
            throw new Error(`${what}: entry '${name}': zip64 field truncated`);
          const v = u64(cd, q, `${what}: entry '${name}'`);
          q += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (csize === 0xffffffff) csize = take();
        if (lho === 0xffffffff) lho = take();
      }
      x += 4 + len;
    }
    if ((flags & 1) !== 0) throw new Error(`${what}: entry '${name}' is encrypted; not supported`);
    if (method !== 0 && method !== 8)
      throw new Error(
        `${what}: entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`,
      );
    if (method === 0 && csize !== size)
      throw new Error(
        `${what}: stored entry '${name}' declares ${size} bytes but ${csize} compressed bytes`,
      );
    if (method === 8 && size > csize * 1100 + 1024) {
      throw new Error(
        `${what}: entry '${name}' declares ${size} bytes from ${csize} deflated bytes, beyond what deflate can produce (zip bomb or corrupt directory)`,
      );
    }
    if (lho + 30 + csize > fileSize)
      throw new Error(
        `${what}: entry '${name}' (${csize} bytes at ${lho}) runs past the end of the ${fileSize}-byte file`,
      );
    entries.set(name, { name, method, compressedSize: csize, size, crc, localHeaderOffset: lho });
    p = end;
  }
  let open = true;
  return {
    path,
    entries,
    read(name, opts = {}) {
      if (!open) throw new Error(`${what}: already closed`);
      const e = entries.get(name);
      if (e === undefined) throw new Error(`${what}: no entry '${name}'`);
      const ew = `${what}: entry '${name}'`;
      const lh = readAt(fd, e.localHeaderOffset, 30, fileSize, ew);
      if (lh.readUInt32LE(0) !== LOC_SIG)
        throw new Error(`${ew}: local header signature missing (corrupt archive)`);
      const dataPos = e.localHeaderOffset + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
      const raw = readAt(fd, dataPos, e.compressedSize, fileSize, ew);
      let out: Uint8Array;
      if (e.method === 0) {
        // A fresh, exactly sized buffer (Buffer.alloc above may come from a shared pool only
        // for small sizes; copy those so the result is 8-byte aligned and standalone).
        out =
          raw.byteOffset === 0 && raw.buffer.byteLength === raw.length ? raw : new Uint8Array(raw);
      } else {
        let inflated: Buffer;
        try {
          inflated = inflateRawSync(raw, {
            maxOutputLength: Math.min(Math.max(1, e.size), bufferConstants.MAX_LENGTH),
          });
        } catch (err) {
          throw new Error(
            `${ew}: deflate data is corrupt or larger than the declared ${e.size} bytes (${(err as Error).message})`,
          );
        }
        if (inflated.length !== e.size)
          throw new Error(
            `${ew}: inflated to ${inflated.length} bytes, but the directory declares ${e.size}`,
          );
        out = new Uint8Array(inflated);
      }
      if (opts.verifyCrc !== false) {
        const c = crc32(out);
        if (c !== e.crc)
          throw new Error(
            `${ew}: CRC-32 mismatch (stored ${e.crc.toString(16)}, computed ${c.toString(16)}); the file is corrupt`,
          );
      }
      return out;
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/** Builds a zip archive of stored entries in memory (for tests and small archives). */
export function buildZip(files: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const cen: Uint8Array[] = [];
  let off = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const crc = crc32(f.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(LOC_SIG, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(f.data.length, 18);
    lh.writeUInt32LE(f.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(CEN_SIG, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(f.data.length, 20);
    ch.writeUInt32LE(f.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(off, 42);
    parts.push(lh, name, f.data);
    cen.push(ch, name);
    off += 30 + name.length + f.data.length;
  }
  const cdSize = cen.reduce((s, b) => s + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(EOCD_SIG, 0);
  eocd.writeUInt16LE(files.length, 8);
  eocd.writeUInt16LE(files.length, 10);
  eocd.writeUInt32LE(cdSize, 12);
  eocd.writeUInt32LE(off, 16);
  return Buffer.concat([...parts, ...cen, eocd]);
}
