// Public namespace `io`: checkpoints (safe .pt reader, safetensors), PNG, image grids.
export { openCheckpoint, loadCheckpoint, checkpointFormat, type CheckpointEntry } from './checkpoint.js';
export { loadSafetensors, saveSafetensors } from './safetensors.js';
export { decodePng, encodePng, readPng, writePng, type RawImage } from './png.js';
export { imageGrid, writeImageGrid, type GridOptions } from './image.js';
