// Atomic file writes: write to `path.tmp-<pid>-<random>`, fsync, rename; the temp file is
// removed on any error, so a crash or bad input never leaves a half-written target.

import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

export function tempPathFor(path: string): string {
  return `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/** Writes all of `buf` at the current position of `fd` (writeSync may write less). */
export function writeAll(fd: number, buf: Uint8Array): void {
  let off = 0;
  while (off < buf.length) {
    off += writeSync(fd, buf, off, Math.min(buf.length - off, 1 << 30));
  }
}

/** Calls `write(fd)` on a fresh temporary file, then fsyncs and renames it over `path`. */
export function writeFileAtomic(path: string, write: (fd: number) => void): void {
  const tmp = tempPathFor(path);
  const fd = openSync(tmp, 'wx', 0o644);
  let closed = false;
  try {
    write(fd);
    fsyncSync(fd);
    closeSync(fd);
    closed = true;
    renameSync(tmp, path);
  } catch (err) {
    if (!closed) {
      try {
        closeSync(fd);
      } catch {
        // already closed or invalid: nothing more to release
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may not exist any more
    }
    throw err;
  }
}

/** Atomically replaces `path` with the given byte chunks. */
export function writeBytesAtomic(path: string, chunks: readonly Uint8Array[] | Uint8Array): void {
  const list = chunks instanceof Uint8Array ? [chunks] : chunks;
  writeFileAtomic(path, (fd) => {
    for (const c of list) writeAll(fd, c);
  });
}
