// ddar's Node entry: the tensor layer at top level, and each higher layer as a namespace.
// The native backend is selected on import (DDAR_BACKEND=ts keeps the reference kernels).

import { selectBackend } from './backend/select.js';

export * from './tensor/index.js';
export * as sampling from './sampling/index.js';
export { selectBackend } from './backend/select.js';
export { kernels, setBackend, referenceBackend } from './backend/registry.js';

selectBackend(process.env.DDAR_BACKEND);
