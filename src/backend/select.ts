// Backend choice for Node entry points (CLI, server, tests): `native` when its addon loaded,
// unless DDAR_BACKEND=ts asks for the reference. Node-only (the native loader uses node:).

import type { Backend } from './kernels.js';
import { kernels, referenceBackend, setBackend } from './registry.js';
import { loadNativeBackend, nativeInfo } from './native/index.js';

export interface BackendChoice {
  readonly backend: Backend;
  /** Set when the requested backend could not be used. */
  readonly warning: string | null;
}

/** Activates the backend named by `requested` ('native' | 'ts' | undefined = best available). */
export function selectBackend(requested: string | undefined): BackendChoice {
  const want = requested === undefined || requested === '' ? 'auto' : requested;
  if (want !== 'auto' && want !== 'native' && want !== 'ts') {
    throw new Error(`DDAR_BACKEND=${requested} is not a backend; use native or ts`);
  }
  if (want === 'ts') {
    setBackend(referenceBackend());
    return { backend: kernels(), warning: null };
  }
  const native = loadNativeBackend();
  if (native) {
    setBackend(native);
    return { backend: native, warning: null };
  }
  setBackend(referenceBackend());
  const why = nativeInfo().error ?? 'the addon is not built';
  return {
    backend: kernels(),
    warning: want === 'native' ? `native backend unavailable (${why}); using ts. HINT: npm run build:native` : null,
  };
}
