// The public generation API: one entry, `loadPipeline`, for every family, and one call,
// `generate`, for every method — in the style of transformers.js / diffusers pipelines.
//
//   const pipe = await loadPipeline({ family: 'llamagen', random: true });
//   const { images } = await pipe.generate({ classes: [1, 2], method: 'dd', steps: 1 });
//   writeFileSync('a.png', images[0].toPNG());
//
// Randomness: DD noise of image i of a request with seed s is sample i of seed s in the stream
// layout of dd/noise.ts (the dataset generator's), so the same (seed, i) gives the same image
// whatever the batch size; the teacher's draws for a batch starting at image i0 come from
// Rng(s, stream 2·i0 + 1).

import { selectBackend, type BackendChoice } from './backend/select.js';
import { getFamily } from './dd/families/index.js';
import type {
  FamilyModels,
  GenerateProgress,
  Method,
  ModelSpec,
  TeacherSampling,
} from './dd/families/family.js';
import { noiseOf, teacherRng, type NoiseId } from './dd/noise.js';
import { encodePng, type RawImage } from './io/png.js';
import { noGrad } from './tensor/autograd.js';

export type BackendName = 'auto' | 'native' | 'ts';

export interface PipelineOptions extends ModelSpec {
  /** A registered family: 'llamagen' or 'var'. */
  readonly family: string;
  /** Compute backend (default 'auto': native when its addon is built, else ts). */
  readonly backend?: BackendName;
}

export interface GenerateOptions {
  /** One image per entry: class ids in [0, numClasses). */
  readonly classes: readonly number[];
  /** 'teacher' (all sequential steps) or 'dd' (the student; default when one is loaded). */
  readonly method?: Method;
  /** DD: 1 or 2 steps with the family's published t_list (default 1). */
  readonly steps?: number;
  /** DD: an explicit ascending t_list instead of `steps`. */
  readonly tList?: readonly number[];
  /** DD: first position/scale from the continuous head (default: the family's). */
  readonly splitT?: number;
  /** DD teacher-involved: the teacher samples from this timestep to tList[1] (needs 2 steps). */
  readonly teacherStart?: number;
  /** Noise / sampling seed (default 0). Image i uses noise sample i of this seed. */
  readonly seed?: number;
  /** Per-image noise identities instead of (seed, i) (e.g. requests batched together). */
  readonly noiseIds?: readonly NoiseId[];
  /** Images per forward pass (default 8). */
  readonly batchSize?: number;
  /** Teacher sampling settings (default: the official sampler's). */
  readonly sampling?: TeacherSampling;
  readonly onProgress?: (p: GenerateProgress) => void;
}

/** An 8-bit RGB image with its provenance. */
export class GeneratedImage implements RawImage {
  readonly channels = 3 as const;
  constructor(
    readonly width: number,
    readonly height: number,
    /** RGB, row-major, interleaved (HWC). */
    readonly data: Uint8Array,
    readonly classId: number,
    readonly noise: NoiseId,
  ) {}
  toPNG(): Uint8Array {
    return encodePng(this);
  }
}

export interface GenerateResult {
  readonly images: GeneratedImage[];
  /** Wall-clock seconds: sampling (network calls) and decoding, summed over batches. */
  readonly seconds: { readonly sample: number; readonly decode: number; readonly total: number };
  readonly method: Method;
  /** The t_list used (DD) or null (teacher). */
  readonly tList: readonly number[] | null;
}

export interface PipelineInfo {
  readonly family: string;
  readonly name: string;
  readonly numClasses: number;
  readonly imageSize: number;
  readonly seqLen: number;
  readonly teacherSteps: number;
  readonly hasTeacher: boolean;
  readonly hasStudent: boolean;
  readonly backend: string;
}

export class Pipeline {
  readonly info: PipelineInfo;
  constructor(
    readonly models: FamilyModels,
    readonly backend: BackendChoice,
  ) {
    const m = models;
    this.info = {
      family: m.family,
      name: m.name,
      numClasses: m.numClasses,
      imageSize: m.imageSize,
      seqLen: m.seqLen,
      teacherSteps: m.teacherSteps,
      hasTeacher: m.hasTeacher,
      hasStudent: m.hasStudent,
      backend: backend.backend.name,
    };
  }

  /** Generates one image per class (see GenerateOptions for every default). */
  async generate(o: GenerateOptions): Promise<GenerateResult> {
    return this.generateSync(o);
  }

  /** generate() without the promise (the work is synchronous compute either way). */
  generateSync(o: GenerateOptions): GenerateResult {
    const m = this.models;
    const method: Method = o.method ?? (m.hasStudent ? 'dd' : 'teacher');
    const seed = o.seed ?? 0;
    const n = o.classes.length;
    if (n === 0) throw new Error('generate: classes is empty; give at least one class id');
    for (const c of o.classes)
      if (!Number.isInteger(c) || c < 0 || c >= m.numClasses)
        throw new Error(`generate: class ${c} is not in [0, ${m.numClasses})`);
    if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`generate: seed ${seed} must be an integer ≥ 0`);
    if (o.noiseIds && o.noiseIds.length !== n)
      throw new Error(`generate: noiseIds has ${o.noiseIds.length} entries for ${n} classes`);
    const batch = o.batchSize ?? 8;
    if (!Number.isInteger(batch) || batch < 1) throw new Error(`generate: batchSize ${batch} must be a positive integer`);
    let tList: readonly number[] = [];
    if (method === 'dd') {
      const steps = o.steps ?? 1;
      tList = o.tList ?? m.defaults.tLists[steps - 1] ?? [];
      if (tList.length === 0) throw new Error(`generate: steps ${steps}: use 1 or 2, or give tList`);
      tList.forEach((t, i) => {
        if (!Number.isInteger(t) || t < 0 || t > m.maxT || (i > 0 && t <= (tList[i - 1] as number)))
          throw new Error(`generate: tList ${tList.join(',')} must ascend within [0, ${m.maxT}]`);
      });
      if (o.teacherStart !== undefined && tList.length < 2)
        throw new Error('generate: teacherStart needs two DD steps (steps: 2)');
    }
    const sampling = { ...m.defaults.teacher, ...definedOnly(o.sampling) };
    const ids = o.noiseIds ?? o.classes.map((_, i) => ({ seed, index: i }));
    const L = m.seqLen * m.codeDim;
    const images: GeneratedImage[] = [];
    let tSample = 0;
    let tDecode = 0;
    const t0 = performance.now();
    for (let first = 0; first < n; first += batch) {
      const count = Math.min(batch, n - first);
      const labels = Int32Array.from(o.classes.slice(first, first + count));
      let tDec = -1;
      const tb = performance.now();
      const x = noGrad(() =>
        m.sample({
          labels,
          method,
          noise: method === 'dd' ? noiseOf(ids.slice(first, first + count), L) : new Float32Array(0),
          tList,
          splitT: o.splitT ?? m.defaults.splitT,
          teacherStart: o.teacherStart ?? null,
          sampling,
          rng: teacherRng(ids[first]!.seed, ids[first]!.index),
          onProgress: (stage, done, total) => {
            if (stage === 'decode' && tDec < 0) tDec = performance.now();
            o.onProgress?.({ stage, done, total, first, count });
          },
        }),
      );
      const te = performance.now();
      if (tDec < 0) tDec = te;
      tSample += tDec - tb;
      tDecode += te - tDec;
      m.toImages(x).forEach((img, k) =>
        images.push(new GeneratedImage(img.width, img.height, img.data, labels[k]!, ids[first + k]!)),
      );
    }
    return {
      images,
      method,
      tList: method === 'dd' ? tList : null,
      seconds: { sample: tSample / 1000, decode: tDecode / 1000, total: (performance.now() - t0) / 1000 },
    };
  }
}

function definedOnly<T extends object>(o: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Loads a family's models (files, a fixture or random weights) and activates the backend. */
export async function loadPipeline(o: PipelineOptions): Promise<Pipeline> {
  const backend = selectBackend(o.backend ?? 'auto');
  const { family, backend: _b, ...spec } = o;
  return new Pipeline(getFamily(family).load(spec), backend);
}
