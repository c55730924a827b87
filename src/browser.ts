// ddar's browser entry: the tensor layer on the plain-TypeScript kernels (no node: imports).

export * from './tensor/index.js';
export * as sampling from './sampling/index.js';
