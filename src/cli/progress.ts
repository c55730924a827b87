// A progress line on stderr: bar, rate, ETA. Redraws in place on a TTY (at most 10×/s);
// otherwise prints one line per quarter so logs stay short.

export interface ProgressUpdate {
  readonly done: number;
  readonly total: number;
  /** Items per second; derived from the start time when absent. */
  readonly rate?: number;
}

export function progressLine(label: string, unit: string): (u: ProgressUpdate) => void {
  const t0 = performance.now();
  const tty = process.stderr.isTTY === true;
  let last = 0;
  let lastQuarter = -1;
  return ({ done, total, rate }) => {
    const now = performance.now();
    const r = rate ?? done / Math.max((now - t0) / 1000, 1e-9);
    const eta = r > 0 ? (total - done) / r : Infinity;
    const width = 30;
    const fill = total > 0 ? Math.round((done / total) * width) : width;
    const line = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${unit}  ${r.toFixed(2)} ${unit}/s  ETA ${Number.isFinite(eta) ? eta.toFixed(0) + 's' : '?'}`;
    if (tty) {
      if (done >= total || now - last > 100) {
        process.stderr.write(`\r${line}${done >= total ? '\n' : ''}`);
        last = now;
      }
    } else {
      const q = total > 0 ? Math.floor((done / total) * 4) : 4;
      if (q !== lastQuarter || done >= total) {
        process.stderr.write(`${line}\n`);
        lastQuarter = q;
      }
    }
  };
}
