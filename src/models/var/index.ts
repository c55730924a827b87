// Public namespace `var`: VAR, the multi-scale VQVAE, their configs, loaders and samplers.
export * from './config.js';
export { VAR } from './var.js';
export { VQVAE } from './vqvae.js';
export { loadVar, loadVqvae, varDepthOf } from './load.js';
export { generate, sampleImages, type VarGenerateOptions } from './generate.js';
