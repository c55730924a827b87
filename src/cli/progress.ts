// Progress on stderr. On a TTY the line is redrawn in place (at most every ttyMs); otherwise a
// new line is printed per quarter of the work (or every logMs), so logs stay short.

export interface ProgressWriterOptions {
  /** Minimum time between redraws on a TTY (default 100 ms). */
  readonly ttyMs?: number;
  /** Off a TTY, print every logMs instead of once per quarter. */
  readonly logMs?: number;
}

/** Writes a progress text for `done` of `total`; the final one (done ≥ total) always shows. */
export function progressWriter(
  opts: ProgressWriterOptions = {},
): (text: string, done: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  const ttyMs = opts.ttyMs ?? 100;
  let last = 0;
  let lastQuarter = -1;
  return (text, done, total) => {
    const now = performance.now();
    const end = done >= total;
    if (tty) {
      if (end || now - last > ttyMs) {
        process.stderr.write(`\r${text}${end ? '\n' : ''}`);
        last = now;
      }
    } else if (opts.logMs !== undefined) {
      if (end || now - last > opts.logMs) {
        process.stderr.write(`${text}\n`);
        last = now;
      }
    } else {
      const q = total > 0 ? Math.floor((done / total) * 4) : 4;
      if (q !== lastQuarter || end) {
        process.stderr.write(`${text}\n`);
        lastQuarter = q;
      }
    }
  };
}

export interface ProgressUpdate {
  readonly done: number;
  readonly total: number;
  /** Items per second; derived from the start time when absent. */
  readonly rate?: number;
  /** Extra text after the rate (e.g. `12.3 ms/step`). */
  readonly detail?: string;
}

/** A bar with count, rate and ETA: `label [###...] done/total unit  r unit/s  ETA Ns`. */
export function progressLine(label: string, unit: string): (u: ProgressUpdate) => void {
  const t0 = performance.now();
  const write = progressWriter();
  return ({ done, total, rate, detail }) => {
    const r = rate ?? done / Math.max((performance.now() - t0) / 1000, 1e-9);
    const eta = r > 0 ? (total - done) / r : Infinity;
    const width = 30;
    const fill = total > 0 ? Math.round((done / total) * width) : width;
    const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${unit}  ${r.toFixed(2)} ${unit}/s${detail ? `  ${detail}` : ''}  ETA ${Number.isFinite(eta) ? eta.toFixed(0) + 's' : '?'}`;
    write(line, done, total);
  };
}
