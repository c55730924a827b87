// The LlamaGen family: GPT teacher (one token per step, KV cache, CFG by batch doubling), VQ-16
// tokenizer (l2-normalised codebook, d = 8) and the LlamaGen DD student. The bundled demo
// family is this architecture at a small size (weights + config.json, no code of its own).

import { dirname, join, resolve } from 'node:path';
import { toUint8LlamaGen } from '../../io/image.js';
import { readJsonObject } from '../../io/json.js';
import type { RawImage } from '../../io/png.js';
import {
  VQ_16,
  gptConfig,
  gptConfigFromJson,
  isGptPreset,
  vqConfigFromJson,
  type GptConfig,
  type GptPresetName,
  type VqConfig,
} from '../../models/llamagen/config.js';
import { decodeTokens, generate } from '../../models/llamagen/generate.js';
import { Transformer, randomizeGpt } from '../../models/llamagen/gpt.js';
import { loadGpt, loadGptWeights, loadVq, loadVqWeights, readStateDict } from '../../models/llamagen/load.js';
import { VQModel } from '../../models/llamagen/vq.js';
import { randomInit_ } from '../../nn/init.js';
import { describeLoadReport, type LoadReport } from '../../nn/module.js';
import * as T from '../../tensor/index.js';
import { ddConfig, ddConfigFromJson, type DDConfig } from '../students/llamagen/config.js';
import { loadDD } from '../students/llamagen/load.js';
import { toLatent } from '../students/llamagen/predict.js';
import { sampleFewStep, sampleWithTeacher } from '../students/llamagen/sample.js';
import { DDTransformer, randomizeDD } from '../students/llamagen/student.js';
import type { FlowTeacher } from '../teacher.js';
import { llamagenFlowTeacher } from '../teachers.js';
import { llamagenStudent } from '../train/student.js';
import type { Family, FamilyModels, ModelSpec, SampleBatch, TeacherSampling } from './family.js';

/** The official sample_c2i.py defaults. */
const TEACHER_DEFAULTS = { cfg: 4.0, topK: 2000, topP: 1, temperature: 1, cfgInterval: -1 } as const;
/** DD1 data generation for LlamaGen: cfg 2.0, top-k 8000, temperature 1, no top-p. */
export const LLAMAGEN_DATA_DEFAULTS = { cfg: 2.0, topK: 8000, topP: 1, temperature: 1, cfgInterval: -1 } as const;

const PRESETS = 'GPT-B, GPT-L, GPT-XL, GPT-XXL or GPT-XXXL';

function preset(spec: ModelSpec): GptPresetName {
  const p = spec.preset ?? 'GPT-B';
  if (!isGptPreset(p)) throw new Error(`llamagen: preset ${p} is not one of ${PRESETS}`);
  return p;
}

function note(what: string, r: LoadReport): string[] {
  return r.unexpected.length > 0 ? [describeLoadReport(what, r)] : [];
}

interface Parts {
  name: string;
  gpt: Transformer | null;
  vq: VQModel;
  dd: DDTransformer | null;
  files: string[];
  notes: string[];
}

function fromFixture(dir: string, files: string[]): { gpt: Transformer; vq: VQModel } {
  const g = resolve(dir);
  const v = join(dirname(g), 'llamagen_vq');
  const gpt = new Transformer(gptConfigFromJson(readJsonObject(join(g, 'config.json'))));
  loadGptWeights(gpt, readStateDict(join(g, 'weights.safetensors')));
  const vq = new VQModel(vqConfigFromJson(readJsonObject(join(v, 'config.json'))));
  loadVqWeights(vq, readStateDict(join(v, 'weights.safetensors')));
  files.push(join(g, 'weights.safetensors'), join(v, 'weights.safetensors'));
  return { gpt, vq };
}

function loadParts(spec: ModelSpec): Parts {
  const seed = spec.seed ?? 0;
  const random = spec.random === true;
  const files: string[] = [];
  const notes: string[] = [];
  const c = spec.config ?? {};
  if (spec.fixture !== undefined) {
    const { gpt, vq } = fromFixture(spec.fixture, files);
    return { name: `llamagen fixture ${resolve(spec.fixture)}`, gpt, vq, dd: null, files, notes };
  }
  // Tokenizer.
  const vqCfg: VqConfig = c.tokenizer ? vqConfigFromJson(c.tokenizer) : VQ_16;
  let vq: VQModel;
  if (random) vq = randomInit_(new VQModel(vqCfg), new T.Rng(seed, 2));
  else if (spec.tokenizer !== undefined) {
    const r = loadVq(spec.tokenizer, vqCfg, keyOpt(spec.keys?.tokenizer));
    vq = r.model;
    notes.push(...note(spec.tokenizer, r.report));
    files.push(spec.tokenizer);
  } else throw new Error('llamagen: the VQ tokenizer checkpoint is required (tokenizer, e.g. vq_ds16_c2i.pt), or random weights');
  const V = vq.config.codebook_size;
  const d = vq.config.codebook_embed_dim;
  const side = (spec.imageSize ?? 256) / 2 ** (vq.config.encoder_ch_mult.length - 1);
  if (!Number.isInteger(side) || side < 1)
    throw new Error(`llamagen: image size ${spec.imageSize} is not a multiple of the VQ's downsampling`);
  const L = side * side;
  const name = c.student || c.teacher ? 'config' : preset(spec);
  // Student.
  let dd: DDTransformer | null = null;
  let ddCfg: DDConfig | null = null;
  if (spec.student !== undefined || (random && spec.student === undefined)) {
    ddCfg = c.student ? ddConfigFromJson(c.student) : ddConfig(preset(spec), { vocab_size: V, codebook_dim: d, block_size: L });
    if (ddCfg.vocab_size !== V || ddCfg.codebook_dim !== d)
      throw new Error(`llamagen: the student (vocab ${ddCfg.vocab_size}, codebook_dim ${ddCfg.codebook_dim}) does not match the VQ (codebook ${V} × ${d})`);
    if (random) dd = randomizeDD(new DDTransformer(ddCfg), new T.Rng(seed, 3));
    else {
      const r = loadDD(spec.student as string, ddCfg, keyOpt(spec.keys?.student));
      dd = r.model;
      notes.push(...note(spec.student as string, r.report));
      files.push(spec.student as string);
    }
  }
  // Teacher (with its CFG null row: class_dropout_prob 0.1).
  let gpt: Transformer | null = null;
  if (spec.teacher !== undefined || random) {
    const tc: GptConfig = c.teacher
      ? gptConfigFromJson(c.teacher)
      : ddCfg && c.student
        ? gptConfigFromJson({ ...c.student, class_dropout_prob: 0.1 })
        : gptConfig(preset(spec), { vocab_size: V, block_size: L });
    if (random) gpt = randomizeGpt(new Transformer(tc), new T.Rng(seed, 1));
    else {
      const r = loadGpt(spec.teacher as string, tc, keyOpt(spec.keys?.teacher));
      gpt = r.model;
      notes.push(...note(spec.teacher as string, r.report));
      files.push(spec.teacher as string);
    }
  }
  if (!gpt && !dd) throw new Error('llamagen: give a teacher checkpoint (GPT), a DD student checkpoint, or both');
  return { name: `llamagen ${name}${random ? ' (random weights)' : ''}`, gpt, vq, dd, files, notes };
}

function keyOpt(key: string | undefined): { key?: string } {
  return key === undefined || key === '' ? {} : { key };
}

function full(s: TeacherSampling | undefined, d: Required<TeacherSampling>): Required<TeacherSampling> {
  return { ...d, ...Object.fromEntries(Object.entries(s ?? {}).filter(([, v]) => v !== undefined)) };
}

function models(p: Parts): FamilyModels {
  const { gpt, vq, dd } = p;
  const cfg = (gpt ?? dd)!.config;
  const L = cfg.block_size;
  const side = Math.round(Math.sqrt(L));
  const codebookT = vq.quantize.codebook();
  const [V, d] = codebookT.shape as [number, number];
  if (V !== cfg.vocab_size) throw new Error(`llamagen: the VQ codebook has ${V} entries but the model predicts ${cfg.vocab_size}`);
  const scale = (x: number) => Math.min(L - 1, Math.max(1, Math.round((x * L) / 256)));
  const needTeacher = (): Transformer => {
    if (!gpt) throw new Error('llamagen: this needs the teacher (GPT) checkpoint; HINT: pass the teacher file too');
    return gpt;
  };
  const needStudent = (): DDTransformer => {
    if (!dd) throw new Error('llamagen: DD sampling needs a DD student checkpoint; HINT: pass the student file');
    return dd;
  };
  return {
    family: 'llamagen',
    name: p.name,
    numClasses: cfg.num_classes,
    imageSize: side * 2 ** (vq.config.decoder_ch_mult.length - 1),
    seqLen: L,
    teacherSteps: L,
    maxT: L - 1,
    vocab: V,
    codeDim: d,
    hasTeacher: gpt !== null,
    hasStudent: dd !== null,
    files: p.files,
    notes: p.notes,
    defaults: {
      teacher: TEACHER_DEFAULTS,
      data: LLAMAGEN_DATA_DEFAULTS,
      tLists: [[0], [0, scale(80)]],
      splitT: scale(80),
      teacherStart: scale(60),
    },
    flowTeacher(settings?: TeacherSampling): FlowTeacher {
      const s = full(settings, LLAMAGEN_DATA_DEFAULTS);
      const sampling = { cfgScale: s.cfg, cfgInterval: s.cfgInterval, temperature: s.temperature, topK: s.topK, topP: s.topP };
      return llamagenFlowTeacher(p.name, needTeacher(), vq, sampling);
    },
    newStudent: (rng) => llamagenStudent(needTeacher(), vq, rng),
    sample(b: SampleBatch): T.Tensor {
      const B = b.labels.length;
      const s = b.sampling;
      const progress = (stage: 'teacher' | 'dd') => (done: number, total: number) => b.onProgress?.(stage, done, total);
      if (b.method === 'teacher') {
        const tokens = generate(needTeacher(), new T.Tensor(b.labels, [B]), {
          cfgScale: s.cfg,
          cfgInterval: s.cfgInterval,
          topK: s.topK,
          topP: s.topP,
          temperature: s.temperature,
          rng: b.rng,
          onStep: progress('teacher'),
        });
        b.onProgress?.('decode', 0, 1);
        return decodeTokens(vq, tokens);
      }
      const model = needStudent();
      const steps = b.tList.length;
      const onStep = (st: { step: number }) => b.onProgress?.('dd', st.step + 1, steps);
      const x =
        b.teacherStart === null
          ? sampleFewStep(model, b.labels, { tList: b.tList, splitT: b.splitT, noise: b.noise, codebook: codebookT, onStep })
          : sampleWithTeacher(model, b.labels, {
              teacher: needTeacher(),
              tList: b.tList,
              teacherStartT: b.teacherStart,
              splitT: b.splitT,
              noise: b.noise,
              codebook: codebookT,
              cfgScale: s.cfg,
              topK: s.topK,
              topP: s.topP,
              temperature: s.temperature,
              rng: b.rng,
              onStep,
              onTeacherStep: progress('teacher'),
            });
      b.onProgress?.('decode', 0, 1);
      return T.noGrad(() => vq.decode(toLatent(x)));
    },
    toImages: (x) => splitImages(x, toUint8LlamaGen),
  };
}

/** Float images [B, 3, H, W] → 8-bit RGB images through the family's pixel rule. */
export function splitImages(x: T.Tensor, toUint8: (x: T.Tensor) => Uint8Array): RawImage[] {
  const [B, , H, W] = x.shape as [number, number, number, number];
  const px = toUint8(x);
  return Array.from({ length: B }, (_, i) => ({
    width: W,
    height: H,
    channels: 3 as const,
    data: px.slice(i * H * W * 3, (i + 1) * H * W * 3),
  }));
}

export const llamagen: Family = {
  name: 'llamagen',
  summary: 'LlamaGen GPT teacher (256 token steps) + VQ-16, and its DD student',
  load: (spec) => models(loadParts(spec)),
};
