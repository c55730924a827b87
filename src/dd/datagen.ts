// Distillation-dataset generation: (class, token indices, noise) triples from the sequence
// flow map of a teacher. Sharded (shard K of N runs alone: no coordinator), resumable (chunks
// are written atomically and listed in the shard manifest after they land; a restart with
// the same command continues and produces byte-identical files), deterministic per sample.
//
// Per-sample randomness (fixed layout, see README "Datasets"):
//   noise of sample i  = the first L·d normals of Rng(seed, stream 2i)        → ε [L, d]
//   class of sample i  = classes[randint of Rng(seed, stream 2i + 1)]         (first word)
// so sample i gets the same class and ε whatever the batch size, shard split or backend.
//
// Layout of an output folder:
//   shard-KKKKK-of-NNNNN.json                 manifest of one shard (written after each chunk)
//   shard-KKKKK-of-NNNNN/chunk-IIIIIIIIII.safetensors   samples [first, first + count)
//   index.json                                written by `merge` once every shard is complete
// Chunk tensors: sample (int32 [n]), class (int32 [n]), tokens (int32 [n, L]) and, unless
// store-noise is none, noise ([n, L, d] as F32 or F16).

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { saveSafetensors } from '../io/safetensors.js';
import { writeBytesAtomic } from '../io/atomic.js';
import { Rng } from '../tensor/rng.js';
import { Tensor } from '../tensor/tensor.js';
import type { FlowMapOpts } from './flow.js';
import { sequenceFlowMap, type FlowTeacher } from './teacher.js';
import { sampleClass, sampleNoise } from './noise.js';

export const DATASET_FORMAT = 'ddar-ndpairs/1';

export type StoreNoise = 'none' | 'f16' | 'f32';

export interface DatagenConfig {
  readonly seed: number;
  readonly numSamples: number;
  /** Samples per chunk file (the unit of atomic writes and of resume). */
  readonly chunkSize: number;
  /** Teacher batch size (memory/speed only: outputs do not depend on it). */
  readonly batchSize: number;
  readonly storeNoise: StoreNoise;
  readonly flow: FlowMapOpts;
  /** Class labels to draw from (default: all of 0 … numClasses−1). */
  readonly classes?: readonly number[];
}

export interface ShardSpec {
  readonly index: number;
  readonly count: number;
}

export interface ChunkEntry {
  readonly file: string;
  readonly first: number;
  readonly count: number;
  readonly sha256: string;
  /** sha256 of the float32 noise of the chunk: lets a reader check that regenerated ε is exact. */
  readonly noiseSha256: string;
}

export interface ShardManifest {
  readonly format: string;
  readonly teacher: { readonly name: string; readonly checkpointSha256: string; readonly settings: Readonly<Record<string, number | string | boolean>> };
  readonly config: DatagenConfig;
  readonly seqLen: number;
  readonly codeDim: number;
  readonly shard: ShardSpec & { readonly first: number; readonly end: number };
  readonly chunks: ChunkEntry[];
  readonly complete: boolean;
}

export interface DatagenProgress {
  readonly done: number;
  readonly total: number;
  readonly samplesPerSec: number;
  readonly etaSec: number;
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
export const shardName = (s: ShardSpec) => `shard-${pad(s.index, 5)}-of-${pad(s.count, 5)}`;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** [first, end) sample range of shard k of n (contiguous, sizes differ by at most one). */
export function shardRange(numSamples: number, s: ShardSpec): [number, number] {
  return [Math.floor((s.index * numSamples) / s.count), Math.floor(((s.index + 1) * numSamples) / s.count)];
}

export function parseShard(text: string): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new Error(`--shard ${text}: expected K/N with 0 ≤ K < N (e.g. 0/8)`);
  return { index, count };
}



function classList(cfg: DatagenConfig, numClasses: number): number[] {
  const list = cfg.classes ? [...cfg.classes] : Array.from({ length: numClasses }, (_, i) => i);
  for (const c of list) {
    if (!Number.isInteger(c) || c < 0 || c >= numClasses) throw new Error(`datagen: class ${c} is outside the teacher's 0…${numClasses - 1}`);
  }
  if (list.length === 0) throw new Error('datagen: the class list is empty');
  return list;
}

export function validateConfig(cfg: DatagenConfig): void {
  const pos = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`datagen: ${name} must be a positive integer, got ${v}`);
  };
  pos('numSamples', cfg.numSamples);
  pos('chunkSize', cfg.chunkSize);
  pos('batchSize', cfg.batchSize);
  if (!Number.isSafeInteger(cfg.seed) || cfg.seed < 0) throw new Error(`datagen: seed must be a non-negative integer, got ${cfg.seed}`);
  if (!['none', 'f16', 'f32'].includes(cfg.storeNoise)) throw new Error(`datagen: --store-noise must be none, f16 or f32, got ${cfg.storeNoise}`);
}

function manifestPath(out: string, s: ShardSpec): string {
  return join(out, `${shardName(s)}.json`);
}

function writeJson(path: string, value: unknown): void {
  writeBytesAtomic(path, new TextEncoder().encode(JSON.stringify(value, null, 1) + '\n'));
}

export function readManifest(path: string): ShardManifest {
  const m = JSON.parse(readFileSync(path, 'utf8')) as ShardManifest;
  if (m.format !== DATASET_FORMAT) throw new Error(`${path}: format ${String(m.format)} is not ${DATASET_FORMAT}`);
  return m;
}

/** The identity of a run: two invocations may share an output folder only if these agree. */
function identity(m: Pick<ShardManifest, 'teacher' | 'config' | 'seqLen' | 'codeDim'>): string {
  const { batchSize: _ignored, ...cfg } = m.config;
  return JSON.stringify({ teacher: m.teacher, cfg, seqLen: m.seqLen, codeDim: m.codeDim });
}

/** Deletes temporary files a killed run of this shard left behind (atomic writes in flight). */
function removeStaleTemps(out: string, shard: ShardSpec): void {
  const tmp = /\.tmp-\d+-[0-9a-z]+$/;
  const dir = join(out, shardName(shard));
  for (const f of readdirSync(dir)) if (tmp.test(f)) rmSync(join(dir, f), { force: true });
  const own = `${shardName(shard)}.json.tmp-`;
  for (const f of readdirSync(out)) if (f.startsWith(own) && tmp.test(f)) rmSync(join(out, f), { force: true });
}

/** Generates (or resumes) one shard. Returns its final manifest. */
export function runDatagen(
  teacher: FlowTeacher,
  checkpointSha256: string,
  cfg: DatagenConfig,
  shard: ShardSpec,
  out: string,
  onProgress?: (p: DatagenProgress) => void,
): ShardManifest {
  validateConfig(cfg);
  const classes = classList(cfg, teacher.numClasses);
  const [first, end] = shardRange(cfg.numSamples, shard);
  const L = teacher.seqLen;
  const d = teacher.codeDim;
  const base = {
    format: DATASET_FORMAT,
    teacher: { name: teacher.name, checkpointSha256, settings: teacher.settings },
    config: cfg,
    seqLen: L,
    codeDim: d,
    shard: { ...shard, first, end },
  };
  mkdirSync(join(out, shardName(shard)), { recursive: true });
  const mpath = manifestPath(out, shard);
  removeStaleTemps(out, shard);
  const chunks: ChunkEntry[] = [];
  if (existsSync(mpath)) {
    const prev = readManifest(mpath);
    if (identity(prev) !== identity(base)) {
      throw new Error(`${mpath} was written by a run with other settings (teacher, seed, counts, flow or noise storage); HINT: use a fresh --out folder or repeat the original command`);
    }
    for (const c of prev.chunks) {
      const path = join(out, shardName(shard), c.file);
      if (!existsSync(path) || sha256(readFileSync(path)) !== c.sha256) break; // regenerate from here
      chunks.push(c);
    }
  }
  let next = chunks.length > 0 ? chunks[chunks.length - 1]!.first + chunks[chunks.length - 1]!.count : first;
  const t0 = performance.now();
  const startDone = next - first;
  const report = () => {
    if (!onProgress) return;
    const done = next - first;
    const rate = (done - startDone) / Math.max((performance.now() - t0) / 1000, 1e-9);
    onProgress({ done, total: end - first, samplesPerSec: rate, etaSec: rate > 0 ? (end - next) / rate : Infinity });
  };
  report();
  while (next < end) {
    const count = Math.min(cfg.chunkSize, end - next);
    const sample = new Int32Array(count);
    const cls = new Int32Array(count);
    const tokens = new Int32Array(count * L);
    const noise = new Float32Array(count * L * d);
    for (let i = 0; i < count; i++) {
      sample[i] = next + i;
      cls[i] = sampleClass(cfg.seed, next + i, classes);
      noise.set(sampleNoise(cfg.seed, next + i, L * d), i * L * d);
    }
    for (let b = 0; b < count; b += cfg.batchSize) {
      const nb = Math.min(cfg.batchSize, count - b);
      const toks = sequenceFlowMap(teacher, cls.subarray(b, b + nb), noise.subarray(b * L * d, (b + nb) * L * d), cfg.flow);
      tokens.set(toks, b * L);
    }
    const file = `chunk-${pad(next, 10)}.safetensors`;
    const path = join(out, shardName(shard), file);
    const tensors = new Map<string, Tensor>([
      ['sample', new Tensor(sample, [count])],
      ['class', new Tensor(cls, [count])],
      ['tokens', new Tensor(tokens, [count, L])],
    ]);
    if (cfg.storeNoise !== 'none') tensors.set('noise', new Tensor(noise, [count, L, d]));
    saveSafetensors(path, tensors, {
      dtype: cfg.storeNoise === 'f16' ? 'F16' : 'F32',
      metadata: { format: DATASET_FORMAT, first: String(next), seed: String(cfg.seed) },
    });
    chunks.push({
      file,
      first: next,
      count,
      sha256: sha256(readFileSync(path)),
      noiseSha256: sha256(new Uint8Array(noise.buffer, noise.byteOffset, noise.byteLength)),
    });
    next += count;
    writeJson(mpath, { ...base, chunks, complete: next >= end });
    report();
  }
  const final: ShardManifest = { ...base, chunks, complete: true };
  writeJson(mpath, final);
  return final;
}

export interface DatasetIndex {
  readonly format: string;
  readonly teacher: ShardManifest['teacher'];
  readonly config: DatagenConfig;
  readonly seqLen: number;
  readonly codeDim: number;
  readonly numSamples: number;
  /** Chunk files relative to the dataset folder, in sample order. */
  readonly chunks: (ChunkEntry & { readonly path: string })[];
}

/** Reads every shard manifest of a folder and checks they form one complete dataset. */
export function collectShards(out: string): DatasetIndex {
  const files = readdirSync(out).filter((f) => /^shard-\d{5}-of-\d{5}\.json$/.test(f)).sort();
  if (files.length === 0) throw new Error(`${out}: no shard manifests (shard-K-of-N.json); HINT: run ddar datagen --out ${out} first`);
  const ms = files.map((f) => readManifest(join(out, f)));
  const m0 = ms[0]!;
  const count = m0.shard.count;
  const problems: string[] = [];
  for (const m of ms) {
    if (identity(m) !== identity(m0)) problems.push(`${shardName(m.shard)} has other settings than ${shardName(m0.shard)}`);
    if (m.shard.count !== count) problems.push(`${shardName(m.shard)} belongs to a split into ${m.shard.count}, not ${count}`);
    if (!m.complete) problems.push(`${shardName(m.shard)} is incomplete (${m.chunks.length} chunks); rerun its command to finish it`);
  }
  const have = new Set(ms.map((m) => m.shard.index));
  for (let k = 0; k < count; k++) if (!have.has(k)) problems.push(`shard ${k}/${count} is missing`);
  const chunks: DatasetIndex['chunks'] = [];
  for (const m of [...ms].sort((a, b) => a.shard.index - b.shard.index)) {
    for (const c of m.chunks) chunks.push({ ...c, path: join(shardName(m.shard), c.file) });
  }
  let expect = 0;
  for (const c of chunks) {
    if (c.first !== expect) problems.push(`samples ${expect}…${c.first - 1} are missing`);
    expect = c.first + c.count;
  }
  if (expect !== m0.config.numSamples) problems.push(`chunks cover ${expect} samples, the config asks for ${m0.config.numSamples}`);
  if (problems.length > 0) throw new Error(`${out}: not a complete dataset:\n  ${problems.join('\n  ')}`);
  return { format: DATASET_FORMAT, teacher: m0.teacher, config: m0.config, seqLen: m0.seqLen, codeDim: m0.codeDim, numSamples: expect, chunks };
}

/** Builds index.json from complete shards. */
export function mergeShards(out: string): DatasetIndex {
  const index = collectShards(out);
  writeJson(join(out, 'index.json'), index);
  return index;
}

export interface VerifyReport {
  readonly chunks: number;
  readonly samples: number;
  readonly problems: string[];
}

/** Checks counts, hashes and config of every chunk; with `deep`, also that the noise read back
 *  (stored or regenerated from the seed) is exactly the noise the data was made from. */
export function verifyDataset(out: string, deep = false): VerifyReport {
  const index = collectShards(out);
  const problems: string[] = [];
  let samples = 0;
  const { seed, storeNoise } = index.config;
  for (const c of index.chunks) {
    const path = join(out, c.path);
    if (!existsSync(path)) {
      problems.push(`${c.path}: missing`);
      continue;
    }
    const bytes = readFileSync(path);
    if (sha256(bytes) !== c.sha256) {
      problems.push(`${c.path}: sha256 differs from the manifest (file changed or corrupt)`);
      continue;
    }
    samples += c.count;
    if (deep) {
      const L = index.seqLen * index.codeDim;
      const noise = new Float32Array(c.count * L);
      for (let i = 0; i < c.count; i++) noise.set(sampleNoise(seed, c.first + i, L), i * L);
      if (sha256(new Uint8Array(noise.buffer)) !== c.noiseSha256) {
        problems.push(`${c.path}: regenerated noise differs from the noise the data was made from${storeNoise === 'none' ? ' (this machine cannot recover ε exactly; regenerate with --store-noise f32)' : ''}`);
      }
    }
  }
  return { chunks: index.chunks.length, samples, problems };
}
