// The tensor layer's public surface: Tensor, dtypes, shapes, autograd, RNG and every op.

export * from './dtype.js';
export * from './shape.js';
export * from './tensor.js';
export { backward as backwardFrom, isGradEnabled, noGrad } from './autograd.js';
export * from './rng.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/layout.js';
export * from './ops/matmul.js';
export * from './ops/softmax.js';
export * from './ops/norm.js';
export * from './ops/conv.js';
export * from './ops/attention.js';
export { backward } from './grad.js';
