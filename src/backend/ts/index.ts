// The `ts` backend: plain-TypeScript reference kernels. Browser-safe (no node: imports), works
// on Float32Array and Float64Array alike; every native kernel is tested against these.

import type { Backend } from '../kernels.js';
import { sdpa, sdpaBackward } from './attention.js';
import { flowMap } from './flow.js';
import { conv2d, conv2dGradInput, conv2dGradWeight } from './conv.js';
import { binary, unary, unaryGrad, where } from './elementwise.js';
import { gather, permute, scatterAdd } from './layout.js';
import { matmul } from './matmul.js';
import { groupNorm, layerNorm, rmsNorm } from './norm.js';
import { argmax, reduce } from './reduce.js';
import { rope } from './rope.js';
import { crossEntropy, logSoftmax, softmax } from './softmax.js';

export const tsBackend: Backend = {
  name: 'ts',
  supports: () => true,
  unary,
  unaryGrad,
  binary,
  reduce,
  argmax,
  matmul,
  softmax,
  logSoftmax,
  crossEntropy,
  rmsNorm,
  layerNorm,
  groupNorm,
  permute,
  gather,
  scatterAdd,
  where,
  conv2d,
  conv2dGradInput,
  conv2dGradWeight,
  sdpa,
  sdpaBackward,
  rope,
  flowMap,
};
