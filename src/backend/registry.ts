// The process-wide backend choice. The tensor layer asks `kernels()` for the active backend;
// the Node entry point picks `native` when its addon loaded (see src/backend/native/), the
// browser build and `DDAR_BACKEND=ts` keep the plain-TypeScript reference. A backend that
// implements only some kernels spreads `referenceBackend()` and overrides the rest; a kernel
// that declines a call (float64, an unsupported case) forwards it to the reference itself.

import type { Backend, F } from './kernels.js';
import { tsBackend } from './ts/index.js';

let current: Backend = tsBackend;

export function kernels(): Backend {
  return current;
}

export function setBackend(b: Backend): void {
  current = b;
}

export function referenceBackend(): Backend {
  return tsBackend;
}

export type { F };
