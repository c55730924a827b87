// `ddar datagen`: distillation datasets from a teacher's sequence flow map (see src/dd/datagen.ts).
//   ddar datagen llamagen --gpt FILE --vq FILE [--preset GPT-B] --n N --out DIR [--shard K/N] …
//   ddar datagen var --var FILE --vae FILE [--depth 16] --n N --out DIR [--shard K/N] …
//   ddar datagen merge DIR          ddar datagen verify DIR [--deep]

import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  mergeShards,
  parseShard,
  runDatagen,
  verifyDataset,
  type DatagenConfig,
  type StoreNoise,
} from '../../dd/datagen.js';
import type { FlowGrid, FlowSolver } from '../../dd/flow.js';
import { DEFAULT_FLOW } from '../../dd/flow.js';
import type { FlowTeacher } from '../../dd/teacher.js';
import type { TeacherSpec } from '../../dd/train/config.js';
import { loadTeacher } from './train-teacher.js';
import {
  LLAMAGEN_DATA_DEFAULTS,
  VAR_DATA_DEFAULTS,
  llamagenFlowTeacher,
  varFlowTeacher,
} from '../../dd/teachers.js';
import { Rng } from '../../tensor/rng.js';
import {
  UsageError,
  guarded,
  intListFlag,
  numberFlag,
  parseArgs,
  requiredFlag,
  wantsHelp,
} from '../args.js';
import { progressLine } from '../progress.js';

const HELP = `usage:
  ddar datagen llamagen (--gpt FILE --vq FILE [--preset GPT-B] | --fixture DIR | --random GPT-B) OPTIONS
  ddar datagen var (--var FILE --vae FILE [--depth 16] | --fixture DIR | --random 16) OPTIONS
  ddar datagen merge DIR            check that every shard is complete, write DIR/index.json
  ddar datagen verify DIR [--deep]  check counts, hashes and config (--deep: and that ε is recovered exactly)

Writes (class, token indices, noise) triples: sample i of seed s always gets the same class and
the same noise ε (counter-based RNG), whatever the batch size, shard split or backend. Killed and
restarted with the same command, a run continues where it stopped and ends with byte-identical files.

options:
  --n N               number of samples in the whole dataset (all shards)
  --out DIR           output folder (shared by all shards)
  --shard K/N         produce shard K of N (default 0/1); shards run independently, e.g. as a
                      Slurm array (--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)
  --seed S            dataset seed (default 0)
  --classes a,b,…     draw classes from this list (default: all classes)
  --chunk N           samples per chunk file (default 256): the unit of atomic writes and resume
  --batch N           teacher batch size (default 8; speed and memory only)
  --store-noise none|f16|f32
                      store ε in the chunks (default none: readers regenerate it exactly from the
                      seed; verify --deep checks this machine reproduces it; f16 is lossy)
  --flow-steps N, --flow-solver euler|heun, --flow-grid uniform|quadratic
                      flow-map integrator (default ${DEFAULT_FLOW.steps}, ${DEFAULT_FLOW.solver}, ${DEFAULT_FLOW.grid})
  LlamaGen sampling:  --cfg (default ${LLAMAGEN_DATA_DEFAULTS.cfgScale}) --cfg-interval (−1) --top-k (${LLAMAGEN_DATA_DEFAULTS.topK}) --top-p (1) --temperature (1)
  VAR sampling:       --cfg (default ${VAR_DATA_DEFAULTS.cfg}) --top-k (${VAR_DATA_DEFAULTS.topK}) --top-p (0 = off)
`;

const VALUED = [
  '--gpt',
  '--vq',
  '--preset',
  '--var',
  '--vae',
  '--depth',
  '--fixture',
  '--random',
  '--n',
  '--out',
  '--shard',
  '--seed',
  '--classes',
  '--chunk',
  '--batch',
  '--store-noise',
  '--flow-steps',
  '--flow-solver',
  '--flow-grid',
  '--cfg',
  '--cfg-interval',
  '--top-k',
  '--top-p',
  '--temperature',
];

/** sha256 over the bytes of the given files, streamed (checkpoints can be gigabytes). */
function hashFiles(paths: readonly string[]): string {
  const h = createHash('sha256');
  const buf = Buffer.alloc(1 << 22);
  for (const p of paths) {
    const fd = openSync(p, 'r');
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  }
  return h.digest('hex');
}

async function llamagenTeacher(f: Map<string, string>): Promise<[FlowTeacher, string]> {
  const cfgMod = await import('../../models/llamagen/config.js');
  const gptMod = await import('../../models/llamagen/gpt.js');
  const load = await import('../../models/llamagen/load.js');
  const { VQModel } = await import('../../models/llamagen/vq.js');
  const settings = {
    cfgScale: numberFlag(
      f,
      '--cfg',
      LLAMAGEN_DATA_DEFAULTS.cfgScale,
      (v) => v >= 0,
      'a number ≥ 0',
    ),
    cfgInterval: numberFlag(f, '--cfg-interval', -1, Number.isInteger, 'an integer'),
    temperature: numberFlag(f, '--temperature', 1, (v) => v > 0, 'a positive number'),
    topK: numberFlag(
      f,
      '--top-k',
      LLAMAGEN_DATA_DEFAULTS.topK,
      (v) => Number.isInteger(v) && v >= 0,
      'an integer ≥ 0',
    ),
    topP: numberFlag(f, '--top-p', 1, (v) => v > 0 && v <= 1, 'a number in (0, 1]'),
  };
  const random = f.get('--random');
  if (random !== undefined) {
    const cfgMod = await import('../../models/llamagen/config.js');
    const gptMod = await import('../../models/llamagen/gpt.js');
    const { VQModel } = await import('../../models/llamagen/vq.js');
    if (!cfgMod.isGptPreset(random))
      throw new UsageError(`preset ${random}: expected GPT-B, GPT-L, GPT-XL, GPT-XXL or GPT-XXXL`);
    const gpt = gptMod.randomizeGpt(new gptMod.Transformer(cfgMod.gptConfig(random)), new Rng(0));
    const vq = new VQModel();
    const cb = vq.quantize.embedding.weight.data;
    cb.set(new Rng(1).normal(cb.length));
    return [
      llamagenFlowTeacher(`llamagen ${random} (random weights)`, gpt, vq, settings),
      `random:${random}`,
    ];
  }
  const fixture = f.get('--fixture');
  const spec: TeacherSpec = fixture
    ? { fixture }
    : {
        gpt: requiredFlag(f, '--gpt', 'the LlamaGen checkpoint, e.g. c2i_B_256.pt'),
        vq: requiredFlag(f, '--vq', 'the VQ-16 checkpoint, vq_ds16_c2i.pt'),
        preset: f.get('--preset') ?? 'GPT-B',
      };
  const t = await loadTeacher('llamagen', spec);
  if (t.family !== 'llamagen') throw new Error('datagen: expected a LlamaGen teacher');
  const name = fixture
    ? `llamagen fixture ${resolve(fixture)}`
    : `llamagen ${'preset' in spec ? spec.preset : ''}`;
  return [llamagenFlowTeacher(name, t.gpt, t.vq, settings), hashFiles(t.files)];
}

async function varTeacher(f: Map<string, string>): Promise<[FlowTeacher, string]> {
  const cfgMod = await import('../../models/var/config.js');
  const load = await import('../../models/var/load.js');
  const { VAR } = await import('../../models/var/var.js');
  const { VQVAE } = await import('../../models/var/vqvae.js');
  const { randomInit_ } = await import('../../nn/init.js');
  const settings = {
    cfg: numberFlag(f, '--cfg', VAR_DATA_DEFAULTS.cfg, (v) => v >= 0, 'a number ≥ 0'),
    topK: numberFlag(
      f,
      '--top-k',
      VAR_DATA_DEFAULTS.topK,
      (v) => Number.isInteger(v) && v >= 0,
      'an integer ≥ 0',
    ),
    topP: numberFlag(f, '--top-p', 0, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
  };
  const random = f.get('--random');
  if (random !== undefined) {
    const cfgMod = await import('../../models/var/config.js');
    const { VAR } = await import('../../models/var/var.js');
    const { VQVAE } = await import('../../models/var/vqvae.js');
    const { randomInit_ } = await import('../../nn/init.js');
    const depth = Number(random);
    if (![16, 20, 24, 30].includes(depth))
      throw new UsageError(`depth ${random}: expected 16, 20, 24 or 30`);
    const model = randomInit_(new VAR(cfgMod.varPreset(depth)), new Rng(0), { fast: true });
    const vae = randomInit_(new VQVAE(cfgMod.VQVAE_CH160V4096Z32), new Rng(1), { fast: true });
    return [
      varFlowTeacher(`var d${depth} (random weights)`, model, vae, settings),
      `random:d${depth}`,
    ];
  }
  const fixture = f.get('--fixture');
  const depth = Number(f.get('--depth') ?? '16');
  if (!fixture && ![16, 20, 24, 30].includes(depth))
    throw new UsageError(`depth ${depth}: expected 16, 20, 24 or 30`);
  const spec: TeacherSpec = fixture
    ? { fixture }
    : {
        var: requiredFlag(f, '--var', 'the VAR checkpoint, e.g. var_d16.pth'),
        vae: requiredFlag(f, '--vae', 'the VQVAE checkpoint, vae_ch160v4096z32.pth'),
        depth,
      };
  const t = await loadTeacher('var', spec);
  if (t.family !== 'var') throw new Error('datagen: expected a VAR teacher');
  const name = fixture ? `var fixture ${resolve(fixture)}` : `var d${depth}`;
  return [varFlowTeacher(name, t.model, t.vae, settings), hashFiles(t.files)];
}

async function generateCmd(family: 'llamagen' | 'var', argv: string[]): Promise<number> {
  const { flags: f } = parseArgs(argv, VALUED);
  const out = resolve(requiredFlag(f, '--out', 'the dataset folder'));
  const storeNoise = (f.get('--store-noise') ?? 'none') as StoreNoise;
  if (!['none', 'f16', 'f32'].includes(storeNoise))
    throw new UsageError(`--store-noise ${storeNoise}: expected none, f16 or f32`);
  const solver = (f.get('--flow-solver') ?? DEFAULT_FLOW.solver) as FlowSolver;
  const grid = (f.get('--flow-grid') ?? DEFAULT_FLOW.grid) as FlowGrid;
  if (solver !== 'euler' && solver !== 'heun')
    throw new UsageError(`--flow-solver ${solver}: expected euler or heun`);
  if (grid !== 'uniform' && grid !== 'quadratic')
    throw new UsageError(`--flow-grid ${grid}: expected uniform or quadratic`);
  const isPosInt = (v: number) => Number.isInteger(v) && v >= 1;
  const classes = intListFlag(f, '--classes');
  const cfg: DatagenConfig = {
    seed: numberFlag(
      f,
      '--seed',
      0,
      (v) => Number.isSafeInteger(v) && v >= 0,
      'a non-negative integer',
    ),
    numSamples: numberFlag(f, '--n', NaN, isPosInt, 'a positive integer (--n is required)'),
    chunkSize: numberFlag(f, '--chunk', 256, isPosInt, 'a positive integer'),
    batchSize: numberFlag(f, '--batch', 8, isPosInt, 'a positive integer'),
    storeNoise,
    flow: {
      steps: numberFlag(f, '--flow-steps', DEFAULT_FLOW.steps, isPosInt, 'a positive integer'),
      solver,
      grid,
    },
    ...(classes ? { classes } : {}),
  };
  if (!Number.isFinite(cfg.numSamples))
    throw new UsageError('--n is required (number of samples in the whole dataset)');
  const shard = parseShard(f.get('--shard') ?? '0/1');
  const [teacher, hash] = family === 'llamagen' ? await llamagenTeacher(f) : await varTeacher(f);
  console.error(
    `datagen: ${teacher.name}, settings ${JSON.stringify(teacher.settings)}, config ${JSON.stringify(cfg)}, shard ${shard.index}/${shard.count} → ${out}`,
  );
  const bar = progressLine(`shard ${shard.index}/${shard.count}`, 'samples');
  const m = runDatagen(teacher, hash, cfg, shard, out, (p) =>
    bar({ done: p.done, total: p.total, rate: p.samplesPerSec }),
  );
  console.log(
    `shard ${shard.index}/${shard.count}: ${m.shard.end - m.shard.first} samples in ${m.chunks.length} chunks → ${out}`,
  );
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || wantsHelp(argv)) {
    console.log(HELP);
    return sub === undefined ? 2 : 0;
  }
  return guarded('datagen', async () => {
    if (sub === 'llamagen' || sub === 'var') return generateCmd(sub, rest);
    if (sub === 'merge' || sub === 'verify') {
      const { flags, positional } = parseArgs(rest, [], ['--deep']);
      const dir = positional[0];
      if (!dir) throw new UsageError(`${sub} needs the dataset folder`);
      if (sub === 'merge') {
        const idx = mergeShards(resolve(dir));
        console.log(
          `merged ${idx.numSamples} samples in ${idx.chunks.length} chunks → ${join(dir, 'index.json')}`,
        );
        return 0;
      }
      const r = verifyDataset(resolve(dir), flags.has('--deep'));
      for (const p of r.problems) console.log(`FAIL ${p}`);
      console.log(
        `${r.problems.length === 0 ? 'OK' : 'FAILED'}: ${r.chunks} chunks, ${r.samples} samples verified${flags.has('--deep') ? ' (deep)' : ''}`,
      );
      return r.problems.length === 0 ? 0 : 1;
    }
    throw new UsageError(`unknown datagen subcommand '${sub}' (llamagen, var, merge, verify)`);
  });
}
