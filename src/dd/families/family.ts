// The Family interface: everything the library, CLI, server and web page need from one model
// family (LlamaGen, VAR, …), behind one object per family in this folder. Code outside
// src/dd/families/ never compares a family name; it asks the registry (./index.ts) for the
// family and calls it. Adding a family = adding one file here and one line to the registry.
//
// Letters: B batch, L tokens per image, d codebook dim, V codebook size.

import type { RawImage } from '../../io/png.js';
import type { Rng } from '../../tensor/rng.js';
import type { Tensor } from '../../tensor/tensor.js';
import type { FlowTeacher } from '../teacher.js';
import type { DDStudent } from '../train/student.js';

/** Where a family's models come from. Paths are checkpoint files (.pt/.pth/.safetensors). */
export interface ModelSpec {
  /** The teacher (LlamaGen GPT / VAR) checkpoint. */
  readonly teacher?: string;
  /** The tokenizer (VQ-16 / multi-scale VQVAE) checkpoint. */
  readonly tokenizer?: string;
  /** The DD student checkpoint. */
  readonly student?: string;
  /** Dict key path of the state dict inside a .pt file, per file (default: the official choice). */
  readonly keys?: { readonly teacher?: string; readonly tokenizer?: string; readonly student?: string };
  /** Size preset: 'GPT-B', 'GPT-L', … (LlamaGen); '16', '20', … or 'd16' (VAR depth). */
  readonly preset?: string;
  /** Sizes as JSON with the official constructor keys, instead of a preset. */
  readonly config?: { readonly teacher?: Readonly<Record<string, unknown>>; readonly tokenizer?: Readonly<Record<string, unknown>>; readonly student?: Readonly<Record<string, unknown>> };
  /** A folder of an official-model fixture of the teacher (config.json + weights.safetensors). */
  readonly fixture?: string;
  /** Random weights at the preset's sizes instead of files (smoke tests, timing). */
  readonly random?: boolean;
  /** Seed of the random weights (default 0). */
  readonly seed?: number;
  /** Image side in pixels where the family supports several (LlamaGen 256 / 384). */
  readonly imageSize?: number;
}

/** The teacher's sampling settings (undefined = the family's default for the use). */
export interface TeacherSampling {
  readonly cfg?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly temperature?: number;
  /** LlamaGen: −1 = CFG on every token; else tokens after cfgInterval + 1 are unguided. */
  readonly cfgInterval?: number;
}

/** A progress event of one generation call. */
export interface GenerateProgress {
  /** 'teacher': sequential teacher steps; 'dd': student steps; 'decode': tokenizer decoding. */
  readonly stage: 'teacher' | 'dd' | 'decode';
  readonly done: number;
  readonly total: number;
  /** Index of the batch's first image in the request. */
  readonly first: number;
  /** Images in the batch. */
  readonly count: number;
}

export type Method = 'teacher' | 'dd';

/** One batch of generation, fully specified (the pipeline fills in every default). */
export interface SampleBatch {
  readonly labels: Int32Array;
  readonly method: Method;
  /** ε [B, L, d] (dd/noise.ts), used by 'dd'. */
  readonly noise: Float32Array;
  /** DD: ascending timesteps (t_list), e.g. [0] or [0, t1]. */
  readonly tList: readonly number[];
  /** DD: first position (LlamaGen) / scale (VAR) taken from the continuous head. */
  readonly splitT: number;
  /** DD teacher-involved: the teacher continues from this timestep up to tList[1]; null = off. */
  readonly teacherStart: number | null;
  readonly sampling: Required<TeacherSampling>;
  /** The teacher's random draws (teacher and teacher-involved methods). */
  readonly rng: Rng;
  readonly onProgress?: (stage: GenerateProgress['stage'], done: number, total: number) => void;
}

/** Defaults of a loaded family, all at the loaded sizes. */
export interface FamilyDefaults {
  /** The teacher's own sampling settings (the official sampler's defaults). */
  readonly teacher: Required<TeacherSampling>;
  /** The teacher settings of DD data generation (the paper's). */
  readonly data: Required<TeacherSampling>;
  /** t_list of k-step DD sampling: index k − 1 (1 and 2 steps). */
  readonly tLists: readonly (readonly number[])[];
  readonly splitT: number;
  /** Teacher-involved sampling: where the teacher starts (DD drafts before it). */
  readonly teacherStart: number;
}

/** The models of one family, loaded; methods close over them. */
export interface FamilyModels {
  readonly family: string;
  /** e.g. 'llamagen GPT-B', 'var d16 (random weights)'. */
  readonly name: string;
  readonly numClasses: number;
  readonly imageSize: number;
  /** Tokens per image (LlamaGen 256; VAR Σ pn² = 680). */
  readonly seqLen: number;
  /** Sequential network calls of the teacher per image (LlamaGen L; VAR scales). */
  readonly teacherSteps: number;
  /** Largest valid DD timestep (LlamaGen L − 1 positions, VAR SN − 1 scales). */
  readonly maxT: number;
  readonly vocab: number;
  readonly codeDim: number;
  readonly hasTeacher: boolean;
  readonly hasStudent: boolean;
  /** Weight files read (hashed into dataset manifests); empty for random weights. */
  readonly files: readonly string[];
  /** Notes from loading (ignored keys, …), one line each. */
  readonly notes: readonly string[];
  readonly defaults: FamilyDefaults;
  /** The teacher with its random draw replaced by a token picker (the flow map, datagen). */
  flowTeacher(settings?: TeacherSampling): FlowTeacher;
  /** A fresh DD student initialised from the teacher (training). */
  newStudent(rng: Rng): DDStudent;
  /** One batch → images float [B, 3, H, W] in about [−1, 1] (not clamped). */
  sample(batch: SampleBatch): Tensor;
  /** Images float [B, 3, H, W] → 8-bit RGB images, exactly as the family's official code
   *  writes its PNGs. */
  toImages(images: Tensor): RawImage[];
}

/** One model family. */
export interface Family {
  readonly name: string;
  readonly summary: string;
  /** Teacher/tokenizer (and student, when given) from files, a fixture or random weights. */
  load(spec: ModelSpec): FamilyModels;
}
