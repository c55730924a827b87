// Sampling shared by both model families: CFG mixing, temperature, top-k/top-p, categorical.

export * from './cfg.js';
export * from './filter.js';
export * from './categorical.js';
export * from './fused.js';
export * from './argmax.js';
