// ddar sample var-dd: class-conditional images from an official VAR-DD student checkpoint
// (VAR-DD/var-d16.pth …, or a safetensors conversion) and its VQVAE, in 1, 2 or more DD steps
// (--steps = t_list), or teacher-involved with the original VAR teacher (--teacher,
// --teacher-start), written as a PNG grid. Progress goes to stderr; the lead wires this under
// `ddar sample var-dd`.

import { resolve } from 'node:path';
import { writeImageGrid } from '../../io/image.js';
import * as T from '../../tensor/index.js';
import { VQVAE_CH160V4096Z32, vqvaeConfigFromJson } from '../../models/var/config.js';
import { loadVar, loadVqvae, varDepthOf } from '../../models/var/load.js';
import { defaultSplitT, varDDConfigFromJson, varDDPreset } from '../../dd/students/var/config.js';
import {
  describeVarDDReport,
  loadVarDDStateDict,
  readVarDDStateDict,
} from '../../dd/students/var/load.js';
import {
  DD_TEACHER_DEFAULTS,
  decodeVarDD,
  sampleVarDD as sampleStudent,
  sampleVarDDWithTeacher,
  type DDStepInfo,
} from '../../dd/students/var/sample.js';
import { VarDD } from '../../dd/students/var/student.js';
import { UsageError, guarded, intListFlag, numberFlag, parseArgs, wantsHelp } from '../args.js';
import { readJsonObject } from '../../io/json.js';
import { batchNoise, teacherRng } from '../../dd/noise.js';

const HELP = `Usage: ddar sample var-dd --dd FILE --vae FILE [options]

Samples class-conditional 256×256 images from a VAR Distilled-Decoding student with its
VQVAE (vae_ch160v4096z32.pth) and writes a PNG grid. --steps 0 is one step, --steps 0,5 two
steps (one student forward each); with --teacher the original VAR teacher samples scales
--teacher-start … t_list[1]−1 between two DD steps (combine_sample.py).

Options:
  --dd FILE            VAR-DD student weights (.pth/.pt/.safetensors)        (required)
  --vae FILE           VQVAE weights (.pth/.pt/.safetensors)                 (required)
  --depth N            16, 20 or 24 (default: read from the checkpoint)
  --steps LIST         t_list, comma-separated scale indices (default 0)
  --split-t S          scales taken from the logits head (default 5 for d16, 4 for d20/d24)
  --classes LIST       ImageNet class ids, comma-separated (default 207,360,387,974,88,979,417,279)
  --per-class N        images per class (default 1)
  --batch N            images per student forward (default 8)
  --seed S             noise of image i = stream 2i of seed S (default 0)
  --no-ema             load trainer.var_wo_ddp instead of trainer.ema_parameters
  --key PATH           explicit state dict key inside the .pth (overrides --no-ema)
  --teacher FILE       VAR teacher weights (var_d16.pth …): teacher-involved sampling
  --teacher-start T    first scale the teacher samples (required with --teacher; 4, 3 or 0
                       in the published runs, with --steps 0,5)
  --cfg X              teacher guidance (default 2.0)
  --top-k K            teacher top-k (default 900)
  --top-p P            teacher top-p (default 0.95)
  --config FILE        student/teacher constructor arguments as JSON (official keys, e.g. a
                       fixture's config.json) instead of the d16/d20/d24 preset
  --vae-config FILE    VQVAE constructor arguments as JSON (default: vae_ch160v4096z32)
  --nrow N             images per grid row (default 8)
  --out FILE           output PNG (default var_dd_samples.png)
  -h, --help           show this help

Examples:
  ddar sample var-dd --dd var-d16.pth --vae vae_ch160v4096z32.pth --depth 16 --steps 0,5 \\
    --classes 207,360 --seed 0 --out grid.png
  ddar sample var-dd --dd var-d16.pth --vae vae_ch160v4096z32.pth --steps 0,5 --split-t 8 \\
    --teacher var_d16.pth --teacher-start 3 --out grid.png`;

interface Args {
  dd: string;
  vae: string;
  depth: number | null;
  steps: number[];
  splitT: number | null;
  classes: number[];
  perClass: number;
  batch: number;
  seed: number;
  ema: boolean;
  key: string | null;
  teacher: string | null;
  teacherStart: number | null;
  cfg: number;
  topK: number;
  topP: number;
  config: string | null;
  vaeConfig: string | null;
  nrow: number;
  out: string;
}

const VALUED = [
  '--dd',
  '--vae',
  '--depth',
  '--steps',
  '--split-t',
  '--classes',
  '--per-class',
  '--batch',
  '--seed',
  '--key',
  '--teacher',
  '--teacher-start',
  '--cfg',
  '--top-k',
  '--top-p',
  '--config',
  '--vae-config',
  '--nrow',
  '--out',
];

function parse(argv: readonly string[]): Args {
  const { flags: f } = parseArgs(argv, VALUED, ['--no-ema'], { positional: false });
  const int = (flag: string, def: number) =>
    numberFlag(f, flag, def, Number.isInteger, 'an integer');
  const optInt = (flag: string) => (f.has(flag) ? int(flag, 0) : null);
  const a: Args = {
    dd: f.get('--dd') ?? '',
    vae: f.get('--vae') ?? '',
    depth: optInt('--depth'),
    steps: intListFlag(f, '--steps') ?? [0],
    splitT: optInt('--split-t'),
    classes: intListFlag(f, '--classes') ?? [207, 360, 387, 974, 88, 979, 417, 279],
    perClass: int('--per-class', 1),
    batch: int('--batch', 8),
    seed: int('--seed', 0),
    ema: !f.has('--no-ema'),
    key: f.get('--key') ?? null,
    teacher: f.get('--teacher') ?? null,
    teacherStart: optInt('--teacher-start'),
    cfg: numberFlag(f, '--cfg', DD_TEACHER_DEFAULTS.cfg, () => true, 'a number'),
    topK: int('--top-k', DD_TEACHER_DEFAULTS.topK),
    topP: numberFlag(f, '--top-p', DD_TEACHER_DEFAULTS.topP, () => true, 'a number'),
    config: f.get('--config') ?? null,
    vaeConfig: f.get('--vae-config') ?? null,
    nrow: int('--nrow', 8),
    out: f.get('--out') ?? 'var_dd_samples.png',
  };
  if (a.dd === '' || a.vae === '') throw new UsageError('--dd and --vae are required');
  if (a.classes.length === 0) throw new UsageError('--classes is empty');
  if (a.perClass < 1 || a.batch < 1 || a.nrow < 1) {
    throw new UsageError('--per-class, --batch and --nrow must be at least 1');
  }
  if (a.seed < 0 || !Number.isSafeInteger(a.seed))
    throw new UsageError('--seed must be an integer ≥ 0');
  if ((a.teacher === null) !== (a.teacherStart === null)) {
    throw new UsageError(
      '--teacher and --teacher-start go together (e.g. --teacher var_d16.pth --teacher-start 4)',
    );
  }
  if (a.topP < 0 || a.topP > 1) throw new UsageError('--top-p must be in [0, 1]');
  return a;
}

/** `ddar sample var-dd …`; returns the process exit code. */
export async function sampleVarDD(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(HELP);
    return 0;
  }
  return guarded('sample var-dd', () => {
    const args = parse(argv);
    const t0 = performance.now();
    const { sd, key } = readVarDDStateDict(args.dd, {
      ema: args.ema,
      ...(args.key !== null ? { key: args.key } : {}),
    });
    const found = varDepthOf(sd.keys());
    if (found === null)
      throw new Error(`${args.dd} has no blocks.N.* tensors; is it a VAR-DD checkpoint?`);
    if (args.depth !== null && args.depth !== found) {
      throw new Error(
        `--depth ${args.depth} but ${args.dd} has ${found} blocks; drop --depth or pass ${found}`,
      );
    }
    const cfg =
      args.config !== null
        ? varDDConfigFromJson(readJsonObject(args.config, 'constructor arguments'))
        : varDDPreset(found);
    if (cfg.depth !== found)
      throw new Error(`${args.config}: depth ${cfg.depth} but ${args.dd} has ${found} blocks`);
    const student = new VarDD(cfg);
    const report = loadVarDDStateDict(student, sd, args.dd, { strict: true, key });
    for (const line of describeVarDDReport(report)) console.error(`  ${args.dd}: ${line}`);
    const vaeCfg =
      args.vaeConfig !== null
        ? vqvaeConfigFromJson(readJsonObject(args.vaeConfig, 'constructor arguments'))
        : VQVAE_CH160V4096Z32;
    const vae = loadVqvae(args.vae, vaeCfg).model;
    const teacher = args.teacher !== null ? loadVar(args.teacher, cfg).model : null;
    const nc = student.config.num_classes;
    const labels = new Int32Array(args.classes.length * args.perClass);
    args.classes.forEach((c, i) => {
      if (c < 0 || c >= nc) throw new Error(`class ${c} is outside [0, ${nc})`);
      labels.fill(c, i * args.perClass, (i + 1) * args.perClass);
    });
    const splitT = args.splitT ?? Math.min(defaultSplitT(found), student.sched.teacher.SN);
    const tl = performance.now();
    console.error(
      `loaded VAR-DD-d${found}${key ? ` [${key}]` : ''}${teacher ? ' + teacher' : ''} and VQVAE in ${((tl - t0) / 1000).toFixed(1)} s; ` +
        `sampling ${labels.length} image(s), t_list ${args.steps.join(',')}, split_t ${splitT}` +
        (teacher
          ? `, teacher from scale ${args.teacherStart} (cfg ${args.cfg}, top-k ${args.topK}, top-p ${args.topP})`
          : ''),
    );
    const { L } = student;
    const Cv = student.config.Cvae;
    const images: T.Tensor[] = [];
    for (let first = 0; first < labels.length; first += args.batch) {
      const y = labels.subarray(first, Math.min(first + args.batch, labels.length));
      const noise = new T.Tensor(batchNoise(args.seed, y.length, L * Cv, first), [y.length, L, Cv]);
      let last = performance.now();
      const onStep = (s: DDStepInfo) => {
        const now = performance.now();
        console.error(
          `  images ${first}–${first + y.length - 1}: DD step t=${s.t} ${((now - last) / 1000).toFixed(2)} s`,
        );
        last = now;
      };
      const r = teacher
        ? sampleVarDDWithTeacher(student, vae.quantize, {
            labels: y,
            tList: args.steps,
            splitT,
            noise,
            teacher,
            teacherStart: args.teacherStart as number,
            cfg: args.cfg,
            topK: args.topK,
            topP: args.topP,
            rng: teacherRng(args.seed, first),
            onStep,
            onTeacher: () => {
              const now = performance.now();
              console.error(
                `  images ${first}–${first + y.length - 1}: teacher span ${((now - last) / 1000).toFixed(2)} s`,
              );
              last = now;
            },
          })
        : sampleStudent(student, vae.quantize, {
            labels: y,
            tList: args.steps,
            splitT,
            noise,
            onStep,
          });
      images.push(decodeVarDD(vae, r));
      console.error(
        `  images ${first}–${first + y.length - 1}: decode ${((performance.now() - last) / 1000).toFixed(2)} s`,
      );
    }
    const td = performance.now();
    const out = resolve(args.out);
    writeImageGrid(out, T.concat(images, 0), { nrow: args.nrow });
    const secs = (td - tl) / 1000;
    console.error(
      `wrote ${out}: ${labels.length} image(s) in ${secs.toFixed(1)} s (${(labels.length / secs).toFixed(3)} images/s)`,
    );
    return 0;
  });
}
