// The VAR family: next-scale prediction (10 scales for 256², KV cache, CFG weight growing with
// the scale), the multi-scale VQVAE (V = 4096, d = 32) and the VAR-DD student.

import { join, resolve } from 'node:path';
import { openCheckpoint } from '../../io/checkpoint.js';
import { toUint8Var } from '../../io/image.js';
import { readJsonObject } from '../../io/json.js';
import {
  VQVAE_CH160V4096Z32,
  varConfigFromJson,
  varPreset,
  vqvaeConfigFromJson,
  type VarConfig,
} from '../../models/var/config.js';
import { sampleImages } from '../../models/var/generate.js';
import { loadVar, loadVqvae, varDepthOf } from '../../models/var/load.js';
import { VAR } from '../../models/var/var.js';
import { VQVAE } from '../../models/var/vqvae.js';
import { describeLoadReport } from '../../nn/module.js';
import { randomInit_ } from '../../nn/init.js';
import * as T from '../../tensor/index.js';
import { defaultSplitT, varDDConfigFromJson, varDDPreset, type VarDDConfig } from '../students/var/config.js';
import { describeVarDDReport, loadVarDD } from '../students/var/load.js';
import { decodeVarDD, sampleVarDD, sampleVarDDWithTeacher } from '../students/var/sample.js';
import { VarDD } from '../students/var/student.js';
import { varFlowTeacher } from '../teachers.js';
import { varStudent } from '../train/student.js';
import type { Family, FamilyModels, ModelSpec, SampleBatch, TeacherSampling } from './family.js';
import { splitImages } from './llamagen.js';

/** The official VAR demo sampler's settings. */
const TEACHER_DEFAULTS = { cfg: 1.5, topK: 900, topP: 0.96, temperature: 1, cfgInterval: -1 } as const;
/** DD1 data generation for VAR: cfg 2.0, top-k 900 (no top-p). */
export const VAR_DATA_DEFAULTS = { cfg: 2.0, topK: 900, topP: 0, temperature: 1, cfgInterval: -1 } as const;
/** The teacher settings combine_sample.py hard-codes for teacher-involved sampling. */
const INVOLVED_DEFAULTS = { cfg: 2.0, topK: 900, topP: 0.95 } as const;

function depthOf(spec: ModelSpec, file: string | undefined): number {
  if (spec.preset !== undefined) {
    const d = Number(spec.preset.replace(/^d/, ''));
    if (![16, 20, 24, 30].includes(d)) throw new Error(`var: preset ${spec.preset} is not a depth (16, 20, 24 or 30)`);
    return d;
  }
  if (file === undefined) return 16;
  const src = openCheckpoint(file);
  const found = varDepthOf(src.entries.map((e) => e.name));
  src.close();
  if (found === null) throw new Error(`${file} has no blocks.N.* tensors; is it a VAR checkpoint?`);
  return found;
}

interface Parts {
  name: string;
  model: VAR | null;
  vae: VQVAE;
  dd: VarDD | null;
  files: string[];
  notes: string[];
}

function loadParts(spec: ModelSpec): Parts {
  const seed = spec.seed ?? 0;
  const random = spec.random === true;
  const files: string[] = [];
  const notes: string[] = [];
  const c = spec.config ?? {};
  if (spec.fixture !== undefined) {
    const t = resolve(spec.fixture);
    const cfg = readJsonObject(join(t, 'config.json'));
    const vdir = resolve(t, typeof cfg['vae'] === 'string' ? cfg['vae'] : '../var_vqvae');
    const { model } = loadVar(join(t, 'weights.safetensors'), varConfigFromJson(cfg));
    const { model: vae } = loadVqvae(join(vdir, 'weights.safetensors'), vqvaeConfigFromJson(readJsonObject(join(vdir, 'config.json'))));
    files.push(join(t, 'weights.safetensors'), join(vdir, 'weights.safetensors'));
    return { name: `var fixture ${t}`, model, vae, dd: null, files, notes };
  }
  const vaeCfg = c.tokenizer ? vqvaeConfigFromJson(c.tokenizer) : VQVAE_CH160V4096Z32;
  let vae: VQVAE;
  if (random) vae = randomInit_(new VQVAE(vaeCfg), new T.Rng(seed, 2), { fast: true });
  else if (spec.tokenizer !== undefined) {
    const r = loadVqvae(spec.tokenizer, vaeCfg, keyOpt(spec.keys?.tokenizer));
    vae = r.model;
    if (r.report.unexpected.length > 0) notes.push(describeLoadReport(spec.tokenizer, r.report));
    files.push(spec.tokenizer);
  } else throw new Error('var: the VQVAE checkpoint is required (tokenizer, e.g. vae_ch160v4096z32.pth), or random weights');
  const depth = c.student || c.teacher ? 0 : depthOf(spec, spec.teacher ?? spec.student);
  let dd: VarDD | null = null;
  let ddCfg: VarDDConfig | null = null;
  if (spec.student !== undefined || random) {
    ddCfg = c.student ? varDDConfigFromJson(c.student) : varDDPreset(depth);
    if (random) dd = randomInit_(new VarDD(ddCfg), new T.Rng(seed, 3), { fast: true });
    else {
      const r = loadVarDD(spec.student as string, ddCfg, spec.keys?.student !== undefined ? { key: spec.keys.student } : {});
      dd = r.model;
      if (r.report.unexpected.length > 0) notes.push(...describeVarDDReport(r.report).map((l) => `${spec.student}: ${l}`));
      files.push(spec.student as string);
    }
  }
  let model: VAR | null = null;
  if (spec.teacher !== undefined || random) {
    const tc: VarConfig = c.teacher ? varConfigFromJson(c.teacher) : ddCfg ?? varPreset(depth);
    if (random) model = randomInit_(new VAR(tc), new T.Rng(seed, 1), { fast: true });
    else {
      const r = loadVar(spec.teacher as string, tc, keyOpt(spec.keys?.teacher));
      model = r.model;
      if (r.report.unexpected.length > 0) notes.push(describeLoadReport(spec.teacher as string, r.report));
      files.push(spec.teacher as string);
    }
  }
  if (!model && !dd) throw new Error('var: give a teacher checkpoint (VAR), a VAR-DD student checkpoint, or both');
  const size = depth > 0 ? `d${depth}` : 'config';
  return { name: `var ${size}${random ? ' (random weights)' : ''}`, model, vae, dd, files, notes };
}

function keyOpt(key: string | undefined): { key?: string } {
  return key === undefined || key === '' ? {} : { key };
}

function full(s: TeacherSampling | undefined, d: Required<TeacherSampling>): Required<TeacherSampling> {
  return { ...d, ...Object.fromEntries(Object.entries(s ?? {}).filter(([, v]) => v !== undefined)) };
}

function models(p: Parts): FamilyModels {
  const { model, vae, dd } = p;
  const cfg = (model ?? dd)!.config;
  const q = vae.quantize;
  const { L, SN } = q.sched;
  const needTeacher = (): VAR => {
    if (!model) throw new Error('var: this needs the VAR teacher checkpoint; HINT: pass the teacher file too');
    return model;
  };
  const needStudent = (): VarDD => {
    if (!dd) throw new Error('var: DD sampling needs a VAR-DD student checkpoint; HINT: pass the student file');
    return dd;
  };
  const mid = Math.max(1, Math.floor(SN / 2));
  return {
    family: 'var',
    name: p.name,
    numClasses: cfg.num_classes,
    imageSize: (q.sched.patchNums[SN - 1] as number) * 16,
    seqLen: L,
    teacherSteps: SN,
    maxT: SN - 1,
    vocab: q.V,
    codeDim: q.Cv,
    hasTeacher: model !== null,
    hasStudent: dd !== null,
    files: p.files,
    notes: p.notes,
    defaults: {
      teacher: TEACHER_DEFAULTS,
      data: VAR_DATA_DEFAULTS,
      tLists: [[0], [0, mid]],
      splitT: Math.min(defaultSplitT(cfg.depth), SN),
      teacherStart: Math.max(0, mid - 1),
    },
    flowTeacher(settings?: TeacherSampling) {
      const s = full(settings, VAR_DATA_DEFAULTS);
      return varFlowTeacher(p.name, needTeacher(), vae, { cfg: s.cfg, topK: s.topK, topP: s.topP });
    },
    newStudent: (rng) => varStudent(needTeacher(), vae, rng),
    sample(b: SampleBatch): T.Tensor {
      const B = b.labels.length;
      const s = b.sampling;
      if (b.method === 'teacher') {
        let k = 0;
        const { images } = sampleImages(needTeacher(), vae, {
          labels: b.labels,
          cfg: s.cfg,
          topK: s.topK,
          topP: s.topP,
          rng: b.rng,
          onScale: () => b.onProgress?.('teacher', ++k, SN),
        });
        return images;
      }
      const student = needStudent();
      const noise = new T.Tensor(b.noise, [B, L, q.Cv]);
      const steps = b.tList.length;
      const onStep = (st: { index: number }) => b.onProgress?.('dd', st.index + 1, steps);
      const r =
        b.teacherStart === null
          ? sampleVarDD(student, q, { labels: b.labels, tList: b.tList, splitT: b.splitT, noise, onStep })
          : sampleVarDDWithTeacher(student, q, {
              labels: b.labels,
              tList: b.tList,
              splitT: b.splitT,
              noise,
              teacher: needTeacher(),
              teacherStart: b.teacherStart,
              cfg: s.cfg,
              topK: s.topK,
              topP: s.topP,
              rng: b.rng,
              onStep,
            });
      b.onProgress?.('decode', 0, 1);
      return decodeVarDD(vae, r);
    },
    toImages: (x) => splitImages(x, toUint8Var),
  };
}

export { INVOLVED_DEFAULTS as VAR_INVOLVED_DEFAULTS };

export const varFamily: Family = {
  name: 'var',
  summary: 'VAR next-scale teacher (10 scales) + multi-scale VQVAE, and its DD student',
  load: (spec) => models(loadParts(spec)),
};
