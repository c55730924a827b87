// The backends a benchmark compares: ts always, native when its addon loaded.

import type { Backend } from '../src/backend/kernels.js';
import { kernels, referenceBackend, setBackend } from '../src/backend/registry.js';
import { loadNativeBackend } from '../src/backend/native/index.js';

export function availableBackends(): Backend[] {
  const native = loadNativeBackend();
  return native ? [referenceBackend(), native] : [referenceBackend()];
}

/** Runs fn with backend b active, restoring the previous one. */
export async function withBackend<T>(b: Backend, fn: () => Promise<T> | T): Promise<T> {
  const prev = kernels();
  setBackend(b);
  try {
    return await fn();
  } finally {
    setBackend(prev);
  }
}

/** Median wall time in ms of `reps` runs of fn after `warmup` runs. */
export async function timeMs(fn: () => unknown, reps: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  return ts[Math.floor(ts.length / 2)] as number;
}
