// Public namespace `llamagen`: the LlamaGen GPT, VQ-16 and their configs, loaders and samplers.
export * from './config.js';
export { Transformer, randomizeGpt } from './gpt.js';
export { VQModel } from './vq.js';
export { loadGpt, loadVq, readStateDict } from './load.js';
export { generate, decodeTokens, type GenerateOptions, type SamplingConfig } from './generate.js';
