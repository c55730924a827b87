// ddar sample llamagen-dd: class-conditional images from an official LlamaGen DD student
// (llamagen-B.pt / llamagen-L.pt, weights under "ema") in 1, 2 or more steps, or
// teacher-involved (--teacher: DD step, the LlamaGen teacher continues, final DD step), decoded
// by VQ-16 and written as a PNG grid. Progress goes to stderr; the output path to stdout.
// The lead wires sampleLlamagenDD under `ddar sample llamagen-dd`.

import { resolve } from 'node:path';
import { writeImageGrid } from '../../io/image.js';
import * as T from '../../tensor/index.js';
import { normal_ } from '../../nn/init.js';
import {
  VQ_16,
  gptConfig,
  gptConfigFromJson,
  isGptPreset,
  vqConfigFromJson,
  type GptPresetName,
  type VqConfig,
} from '../../models/llamagen/config.js';
import { Transformer, randomizeGpt } from '../../models/llamagen/gpt.js';
import { VQModel } from '../../models/llamagen/vq.js';
import { loadGpt, loadVq } from '../../models/llamagen/load.js';
import { ddConfig, ddConfigFromJson } from '../../dd/students/llamagen/config.js';
import { DDTransformer, randomizeDD } from '../../dd/students/llamagen/student.js';
import { loadDD } from '../../dd/students/llamagen/load.js';
import { toLatent } from '../../dd/students/llamagen/predict.js';
import {
  sampleFewStep,
  sampleWithTeacher,
} from '../../dd/students/llamagen/sample.js';
import { UsageError, guarded, intListFlag, numberFlag, parseArgs, wantsHelp } from '../args.js';
import { readJsonObject } from '../../io/json.js';
import { batchNoise, teacherRng } from '../../dd/noise.js';

const HELP = `Usage: ddar sample llamagen-dd --dd FILE --vq FILE [options]

Samples class-conditional images from a LlamaGen Distilled-Decoding student: 1 step
(--steps 0), 2 steps (--steps 0,80) or any ascending t_list, re-using the same noise at every
step (eval_fewstep.py). With --teacher, teacher-involved sampling (eval_combine_sample.py):
one DD step, the LlamaGen teacher continues tokens --teacher-start..t1−1, a final DD step.
Noise of sample i = Rng(seed, stream 2i) (the dataset generator's layout); the teacher draws
from Rng(seed, stream 2·first + 1) per batch.

Options:
  --dd FILE             DD student checkpoint (llamagen-B.pt, llamagen-L.pt or safetensors)
  --dd-key K            state dict inside the .pt (default: ema, then model/module/state_dict)
  --vq FILE             VQ tokenizer checkpoint (vq_ds16_c2i.pt)
  --preset NAME         GPT-B (default) or GPT-L (the released students)
  --config FILE         student sizes as JSON with ModelArgs keys (dim, n_layer, n_head,
                        vocab_size, block_size, codebook_dim, …) instead of --preset
  --vq-config FILE      VQ sizes as JSON (codebook_size, ch_mult, …; default VQ-16)
  --image-size N        256 (default; 16×16 tokens; ignored with --config)
  --steps LIST          t_list, e.g. 0 (1 step) or 0,80 (2 steps; default 0,80)
  --split-t N           first position from the continuous head (default 80; DD-L used 130)
  --classes LIST        ImageNet classes (default 207,360,387,974,88,979,417,279)
  --seed N              noise seed (default 0)
  --batch N             samples per forward pass (default 8)
  --out FILE            PNG grid (default dd_samples.png)
  --nrow N              images per grid row (default 8)
  --teacher FILE        LlamaGen teacher (c2i_B_256.pt / c2i_L_256.pt): teacher-involved mode
  --teacher-start P     tokens drafted by DD before the teacher (default 60; 0 = teacher from 0)
  --cfg S               teacher CFG scale (default 2.0)
  --top-k K             teacher top-k, 0 = off (default 8000)
  --top-p P             teacher top-p, 1 = off (default 1.0)
  --temperature T       teacher temperature (default 1.0)
  --random              random weights instead of checkpoints (smoke test / timing; with
                        --teacher any value gives a random teacher)
  -h, --help            show this help

Examples:
  ddar sample llamagen-dd --dd llamagen-B.pt --vq vq_ds16_c2i.pt --preset GPT-B \\
    --steps 0,80 --split-t 80 --classes 207,360 --seed 0 --out grid.png
  ddar sample llamagen-dd --dd llamagen-L.pt --vq vq_ds16_c2i.pt --preset GPT-L \\
    --teacher c2i_L_256.pt --steps 0,80 --teacher-start 60 --split-t 180 --out combined.png`;

interface Args {
  dd: string | null;
  ddKey: string | null;
  vq: string | null;
  preset: GptPresetName;
  config: string | null;
  vqConfig: string | null;
  imageSize: number;
  steps: number[];
  splitT: number;
  classes: number[];
  seed: number;
  batch: number;
  out: string;
  nrow: number;
  teacher: string | null;
  teacherStart: number;
  cfg: number;
  topK: number;
  topP: number;
  temperature: number;
  random: boolean;
}

const VALUED = [
  '--dd',
  '--dd-key',
  '--vq',
  '--preset',
  '--config',
  '--vq-config',
  '--image-size',
  '--steps',
  '--split-t',
  '--classes',
  '--seed',
  '--batch',
  '--out',
  '--nrow',
  '--teacher',
  '--teacher-start',
  '--cfg',
  '--top-k',
  '--top-p',
  '--temperature',
];

function parse(argv: readonly string[]): Args {
  const { flags: f } = parseArgs(argv, VALUED, ['--random'], { positional: false });
  const int = (flag: string, def: number, min: number) =>
    numberFlag(f, flag, def, (x) => Number.isSafeInteger(x) && x >= min, `an integer ≥ ${min}`);
  const preset = f.get('--preset') ?? 'GPT-B';
  if (!isGptPreset(preset))
    throw new UsageError(`--preset ${preset}: expected GPT-B or GPT-L (the released students)`);
  const a: Args = {
    dd: f.get('--dd') ?? null,
    ddKey: f.get('--dd-key') ?? null,
    vq: f.get('--vq') ?? null,
    preset,
    config: f.get('--config') ?? null,
    vqConfig: f.get('--vq-config') ?? null,
    imageSize: numberFlag(
      f,
      '--image-size',
      256,
      (x) => Number.isInteger(x) && x > 0 && x % 16 === 0,
      'a multiple of 16',
    ),
    steps: intListFlag(f, '--steps', 0) ?? [0, 80],
    splitT: int('--split-t', 80, 0),
    classes: intListFlag(f, '--classes', 0) ?? [207, 360, 387, 974, 88, 979, 417, 279],
    seed: int('--seed', 0, 0),
    batch: int('--batch', 8, 1),
    out: f.get('--out') ?? 'dd_samples.png',
    nrow: int('--nrow', 8, 1),
    teacher: f.get('--teacher') ?? null,
    teacherStart: int('--teacher-start', 60, 0),
    cfg: numberFlag(f, '--cfg', 2.0, (x) => x >= 0, 'a scale ≥ 0'),
    topK: int('--top-k', 8000, 0),
    topP: numberFlag(f, '--top-p', 1.0, (x) => x > 0 && x <= 1, 'a probability in (0, 1]'),
    temperature: numberFlag(f, '--temperature', 1.0, (x) => x >= 0, 'a temperature ≥ 0'),
    random: f.has('--random'),
  };
  if (!a.random && (a.dd === null || a.vq === null))
    throw new UsageError('--dd FILE and --vq FILE are required (or --random for a smoke test)');
  if (a.steps.some((t, i) => i > 0 && t <= (a.steps[i - 1] as number)))
    throw new UsageError(`--steps ${a.steps.join(',')}: the timesteps must be ascending`);
  if (a.teacher !== null && a.steps.length < 2)
    throw new UsageError('--teacher needs two timesteps in --steps (t0,t1; e.g. 0,80)');
  return a;
}

function secs(t0: number): string {
  return `${((performance.now() - t0) / 1000).toFixed(2)}s`;
}

function randomVq(config: VqConfig, seed: number): VQModel {
  const vq = new VQModel(config);
  const r = new T.Rng(seed, 3);
  for (const [, t] of vq.namedParameters())
    if (t.rank > 1) normal_(t, 1 / Math.sqrt(t.size / (t.shape[0] as number)), r);
  return vq;
}

async function runArgs(a: Args): Promise<number> {
  const t0 = performance.now();
  const vqCfg =
    a.vqConfig !== null ? vqConfigFromJson(readJsonObject(a.vqConfig, 'ModelArgs keys')) : VQ_16;
  const vq = a.random ? randomVq(vqCfg, a.seed) : loadVq(a.vq as string, vqCfg).model;
  const V = vq.config.codebook_size;
  const c = vq.config.codebook_embed_dim;
  const G = a.imageSize / 2 ** (vq.config.encoder_ch_mult.length - 1);
  const json = a.config !== null ? readJsonObject(a.config, 'ModelArgs keys') : null;
  const cfg = json
    ? ddConfigFromJson(json)
    : ddConfig(a.preset, { vocab_size: V, codebook_dim: c, block_size: G * G });
  if (cfg.vocab_size !== V || cfg.codebook_dim !== c)
    throw new UsageError(
      `the student (vocab ${cfg.vocab_size}, codebook_dim ${cfg.codebook_dim}) does not match the VQ (codebook ${V} × ${c})`,
    );
  const L = cfg.block_size;
  const name = json ? a.config : a.preset;
  let model: DDTransformer;
  if (a.random) model = randomizeDD(new DDTransformer(cfg), new T.Rng(a.seed, 1));
  else {
    const loaded = loadDD(a.dd as string, cfg, a.ddKey !== null ? { key: a.ddKey } : {});
    model = loaded.model;
    if (loaded.report.unexpected.length > 0)
      process.stderr.write(
        `note: ignored ${loaded.report.unexpected.length} unexpected keys: ${loaded.report.unexpected.slice(0, 5).join(', ')}\n`,
      );
  }
  let teacher: Transformer | null = null;
  if (a.teacher !== null) {
    // The teacher of the same size, with its CFG null row (class_dropout_prob 0.1 by default).
    const tc = json
      ? gptConfigFromJson({ ...json, class_dropout_prob: 0.1 })
      : gptConfig(a.preset, { vocab_size: V, block_size: L });
    teacher = a.random
      ? randomizeGpt(new Transformer(tc), new T.Rng(a.seed, 2))
      : loadGpt(a.teacher, tc).model;
  }
  const codebook = vq.quantize.codebook();
  process.stderr.write(
    `loaded DD ${name} (${(model.numParameters() / 1e6).toFixed(1)}M)${teacher ? `, teacher (${(teacher.numParameters() / 1e6).toFixed(1)}M)` : ''} and VQ (${(vq.numParameters() / 1e6).toFixed(1)}M) in ${secs(t0)}\n`,
  );
  for (const k of a.classes)
    if (k >= cfg.num_classes)
      throw new UsageError(`--classes: ${k} is not a class in [0, ${cfg.num_classes})`);

  const N = a.classes.length;
  const images: T.Tensor[] = [];
  const tAll = performance.now();
  let tSample = 0;
  for (let first = 0; first < N; first += a.batch) {
    const B = Math.min(a.batch, N - first);
    const labels = Int32Array.from(a.classes.slice(first, first + B));
    const noise = batchNoise(a.seed, B, L * c, first);
    const tb = performance.now();
    const tag = `[${first + 1}-${first + B}/${N}]`;
    const onStep = (s: { step: number; t: number }) =>
      process.stderr.write(`${tag} DD step ${s.step} (t=${s.t}) done at ${secs(tb)}\n`);
    let x: T.Tensor;
    if (teacher) {
      let lastQ = -1;
      x = sampleWithTeacher(model, labels, {
        teacher,
        tList: a.steps,
        teacherStartT: a.teacherStart,
        splitT: a.splitT,
        noise,
        codebook,
        cfgScale: a.cfg,
        topK: a.topK,
        topP: a.topP,
        temperature: a.temperature,
        rng: teacherRng(a.seed, first),
        onStep,
        onTeacherStep: (done, total) => {
          const q = Math.floor((4 * done) / total);
          if (q !== lastQ) {
            lastQ = q;
            process.stderr.write(`${tag} teacher ${done}/${total} tokens at ${secs(tb)}\n`);
          }
        },
      });
    } else
      x = sampleFewStep(model, labels, {
        tList: a.steps,
        splitT: a.splitT,
        noise,
        codebook,
        onStep,
      });
    tSample += performance.now() - tb;
    const td = performance.now();
    images.push(T.noGrad(() => vq.decode(toLatent(x))));
    process.stderr.write(`${tag} decoded in ${secs(td)}\n`);
  }
  const all = images.length === 1 ? (images[0] as T.Tensor) : T.concat(images, 0);
  const out = resolve(a.out);
  writeImageGrid(out, all, { nrow: a.nrow, convention: 'llamagen', labels: a.classes.map(String) });
  process.stderr.write(
    `${N} images in ${secs(tAll)} (DD sampling ${(tSample / 1000).toFixed(2)}s, ${((N * 1000) / tSample).toFixed(2)} images/s before decoding)\n`,
  );
  process.stdout.write(`${out}\n`);
  return 0;
}

/** `ddar sample llamagen-dd …` → exit code (0 ok, 1 runtime error, 2 usage error). */
export async function sampleLlamagenDD(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  return guarded('sample llamagen-dd', () => runArgs(parse(argv)));
}
