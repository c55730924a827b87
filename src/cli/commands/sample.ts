// ddar sample <family> …: samples images from a teacher model and writes a PNG grid.
// Each family has its own option parser and runner in the FAMILIES table.

import { resolve } from 'node:path';
import { writeImageGrid } from '../../io/image.js';
import { Rng, Tensor } from '../../tensor/index.js';
import { UsageError, guarded, intListFlag, numberFlag, parseArgs, wantsHelp } from '../args.js';
import { progressLine } from '../progress.js';

interface Family {
  readonly summary: string;
  run(argv: readonly string[]): Promise<number>;
}

// ---- llamagen --------------------------------------------------------------------------------

const LLAMAGEN_HELP = `Usage: ddar sample llamagen --gpt FILE --vq FILE [options]

Class-conditional LlamaGen sampling (KV cache, CFG by batch doubling), then VQ-16 decoding
to a PNG grid. Checkpoints: the official .pt files (state dict under "model") or safetensors.

Options:
  --gpt FILE           GPT checkpoint (c2i_B_256.pt, c2i_L_256.pt, …)
  --vq FILE            VQ tokenizer checkpoint (vq_ds16_c2i.pt)
  --preset NAME        GPT-B (default), GPT-L, GPT-XL, GPT-XXL, GPT-XXXL
  --image-size N       256 (default; 16×16 tokens) or 384 (24×24)
  --classes LIST       comma-separated ImageNet classes (default 207,360,387,974,88,979,417,279)
  --cfg S              classifier-free guidance scale, on when > 1 (default 4.0)
  --cfg-interval Q     -1 = always (default); else tokens after Q+1 are unguided
  --top-k K            0 = off (default 2000)
  --top-p P            1.0 = off (default 1.0)
  --temperature T      default 1.0
  --seed N             sampling seed (default 0)
  --out FILE           PNG grid (default samples.png)
  --nrow N             images per grid row (default 8)
  --gpt-key K, --vq-key K   state dict key inside a .pt file (default: model)
  --random             random weights instead of checkpoints (smoke test; no files needed)
  -h, --help           show this help

Example:
  ddar sample llamagen --gpt c2i_B_256.pt --vq vq_ds16_c2i.pt --preset GPT-B \\
    --classes 207,360 --cfg 2.0 --top-k 8000 --seed 0 --out grid.png`;

async function sampleLlamagen(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(LLAMAGEN_HELP);
    return 0;
  }
  return guarded('sample llamagen', () => runLlamagen(argv));
}

async function runLlamagen(argv: readonly string[]): Promise<number> {
  const { flags } = parseArgs(
    argv,
    [
      '--gpt',
      '--vq',
      '--preset',
      '--image-size',
      '--classes',
      '--cfg',
      '--cfg-interval',
      '--top-k',
      '--top-p',
      '--temperature',
      '--seed',
      '--out',
      '--nrow',
      '--gpt-key',
      '--vq-key',
    ],
    ['--random'],
    { positional: false },
  );
  const { gptConfig, isGptPreset } = await import('../../models/llamagen/config.js');
  const { Transformer, randomizeGpt } = await import('../../models/llamagen/gpt.js');
  const { VQModel } = await import('../../models/llamagen/vq.js');
  const { loadGpt, loadVq } = await import('../../models/llamagen/load.js');
  const { generate, decodeTokens } = await import('../../models/llamagen/generate.js');
  const { normal_ } = await import('../../nn/init.js');

  const random = flags.has('--random');
  const preset = flags.get('--preset') ?? 'GPT-B';
  if (!isGptPreset(preset))
    throw new UsageError(`--preset ${preset}: expected GPT-B, GPT-L, GPT-XL, GPT-XXL or GPT-XXXL`);
  const size = numberFlag(
    flags,
    '--image-size',
    256,
    (v) => Number.isInteger(v) && v > 0 && v % 16 === 0,
    'a multiple of 16 (256 or 384)',
  );
  const classes = intListFlag(flags, '--classes') ?? [207, 360, 387, 974, 88, 979, 417, 279];
  for (const c of classes)
    if (!Number.isInteger(c) || c < 0 || c >= 1000)
      throw new UsageError(`--classes: ${c} is not a class in [0, 1000)`);
  const cfgScale = numberFlag(flags, '--cfg', 4.0, (v) => v >= 0, 'a scale ≥ 0');
  const cfgInterval = numberFlag(
    flags,
    '--cfg-interval',
    -1,
    (v) => Number.isInteger(v) && v >= -1,
    'an integer ≥ −1',
  );
  const topK = numberFlag(
    flags,
    '--top-k',
    2000,
    (v) => Number.isInteger(v) && v >= 0,
    'an integer ≥ 0',
  );
  const topP = numberFlag(flags, '--top-p', 1.0, (v) => v > 0 && v <= 1, 'a probability in (0, 1]');
  const temperature = numberFlag(flags, '--temperature', 1.0, (v) => v >= 0, 'a temperature ≥ 0');
  const seed = numberFlag(
    flags,
    '--seed',
    0,
    (v) => Number.isSafeInteger(v) && v >= 0,
    'a non-negative integer',
  );
  const nrow = numberFlag(
    flags,
    '--nrow',
    8,
    (v) => Number.isInteger(v) && v > 0,
    'a positive integer',
  );
  const out = resolve(flags.get('--out') ?? 'samples.png');
  const gptPath = flags.get('--gpt');
  const vqPath = flags.get('--vq');
  if (!random && (gptPath === undefined || vqPath === undefined)) {
    throw new UsageError(
      '--gpt FILE and --vq FILE are required (or --random for a smoke test with random weights)',
    );
  }
  const grid = size / 16;
  const config = gptConfig(preset, { block_size: grid * grid });

  const t0 = performance.now();
  let gpt: InstanceType<typeof Transformer>;
  let vq: InstanceType<typeof VQModel>;
  if (random) {
    gpt = randomizeGpt(new Transformer(config), new Rng(seed, 1));
    vq = new VQModel();
    const r = new Rng(seed, 2);
    for (const [, t] of vq.namedParameters())
      if (t.rank > 1) normal_(t, 1 / Math.sqrt(t.size / (t.shape[0] as number)), r);
  } else {
    const gk = flags.get('--gpt-key');
    const vk = flags.get('--vq-key');
    gpt = loadGpt(gptPath as string, config, gk === undefined ? {} : { key: gk }).model;
    vq = loadVq(vqPath as string, undefined, vk === undefined ? {} : { key: vk }).model;
  }
  console.error(
    `loaded ${preset} (${(gpt.numParameters() / 1e6).toFixed(1)}M) and VQ-16 (${(vq.numParameters() / 1e6).toFixed(1)}M) in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );

  const labels = new Tensor(Int32Array.from(classes), [classes.length]);
  const t1 = performance.now();
  const bar = progressLine(`sampling ${classes.length}`, 'steps');
  const tokens = generate(gpt, labels, {
    cfgScale,
    cfgInterval,
    topK,
    topP,
    temperature,
    rng: new Rng(seed),
    onStep: (done, total) =>
      bar({
        done,
        total,
        detail: `${((done * classes.length) / ((performance.now() - t1) / 1000)).toFixed(1)} tok/s`,
      }),
  });
  const tGen = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  const images = decodeTokens(vq, tokens);
  const tDec = (performance.now() - t2) / 1000;
  writeImageGrid(out, images, { nrow, convention: 'llamagen', labels: classes.map(String) });
  console.error(
    `generated ${classes.length} × ${grid * grid} tokens in ${tGen.toFixed(2)}s (${((tGen * 1000) / (grid * grid)).toFixed(1)} ms/step), decoded in ${tDec.toFixed(2)}s`,
  );
  console.log(out);
  return 0;
}

/** family → runner. Other families (var, dd, …) add an entry here. */
const FAMILIES: Record<string, Family> = {
  llamagen: { summary: 'LlamaGen GPT teacher + VQ-16 (class-conditional)', run: sampleLlamagen },
  var: {
    summary: 'VAR teacher + multi-scale VQVAE (class-conditional)',
    run: async (argv) => (await import('./sample-var.js')).sampleVar([...argv]),
  },
  'llamagen-dd': {
    summary: 'LlamaGen DD student (1/2-step or teacher-involved) + VQ-16',
    run: async (argv) => (await import('./sample-llamagen-dd.js')).sampleLlamagenDD([...argv]),
  },
  'var-dd': {
    summary: 'VAR Distilled Decoding student (1 or few steps) + VQVAE',
    run: async (argv) => (await import('./sample-var-dd.js')).sampleVarDD([...argv]),
  },
};

function help(): string {
  const w = Math.max(...Object.keys(FAMILIES).map((k) => k.length));
  return [
    'Usage: ddar sample <family> [options]   (ddar sample <family> --help)',
    '',
    'families:',
    ...Object.entries(FAMILIES).map(([k, f]) => `  ${k.padEnd(w)}  ${f.summary}`),
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  const [family, ...rest] = argv;
  if (family === undefined || family === '-h' || family === '--help') {
    console.log(help());
    return family === undefined ? 2 : 0;
  }
  const f = FAMILIES[family];
  if (!f) {
    console.error(`ddar sample: unknown family '${family}'\n\n${help()}`);
    return 2;
  }
  return f.run(rest);
}
