// Reading a distillation dataset written by datagen (index.json, or the shard manifests of a
// folder whose shards are complete): chunks of (sample ids, classes, tokens, noise), with ε
// read back from the chunk or regenerated from the seed when it was not stored.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSafetensors } from '../io/safetensors.js';
import { collectShards, DATASET_FORMAT, type DatasetIndex } from './datagen.js';
import { sampleNoise } from './noise.js';

export interface Chunk {
  readonly sample: Int32Array; // [n]
  readonly classes: Int32Array; // [n]
  readonly tokens: Int32Array; // [n, L]
  readonly noise: Float32Array; // [n, L, d]
}

export interface Dataset {
  readonly dir: string;
  readonly index: DatasetIndex;
  readonly numSamples: number;
  readonly seqLen: number;
  readonly codeDim: number;
  readChunk(i: number): Chunk;
}

export function openDataset(dir: string): Dataset {
  const ipath = join(dir, 'index.json');
  let index: DatasetIndex;
  if (existsSync(ipath)) {
    index = JSON.parse(readFileSync(ipath, 'utf8')) as DatasetIndex;
    if (index.format !== DATASET_FORMAT) throw new Error(`${ipath}: format ${String(index.format)} is not ${DATASET_FORMAT}`);
  } else index = collectShards(dir);
  const L = index.seqLen;
  const d = index.codeDim;
  return {
    dir,
    index,
    numSamples: index.numSamples,
    seqLen: L,
    codeDim: d,
    readChunk(i: number): Chunk {
      const c = index.chunks[i];
      if (!c) throw new Error(`dataset ${dir}: chunk ${i} does not exist (${index.chunks.length} chunks)`);
      const f = openSafetensors(join(dir, c.path));
      const get = (name: string) => {
        const t = f.get(name);
        if (!(t.data instanceof Int32Array)) throw new Error(`${c.path}: ${name} must be an integer tensor`);
        return t.data;
      };
      const sample = get('sample');
      const classes = get('class');
      const tokens = get('tokens');
      if (tokens.length !== c.count * L || classes.length !== c.count) throw new Error(`${c.path}: expected ${c.count} samples of ${L} tokens`);
      let noise: Float32Array;
      if (f.has('noise')) {
        const t = f.get('noise');
        if (!(t.data instanceof Float32Array)) throw new Error(`${c.path}: noise must be float`);
        noise = t.data;
      } else {
        noise = new Float32Array(c.count * L * d);
        for (let k = 0; k < c.count; k++) noise.set(sampleNoise(index.config.seed, c.first + k, L * d), k * L * d);
      }
      return { sample, classes, tokens, noise };
    },
  };
}
