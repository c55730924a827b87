// ddar sample var: class-conditional images from an official VAR teacher checkpoint and its
// VQVAE (per-scale sampling with KV cache, CFG, top-k/top-p, seeded), written as a PNG grid.
// Progress goes to stderr; the lead wires this under `ddar sample var`.

import { resolve } from 'node:path';
import { openCheckpoint } from '../../io/checkpoint.js';
import { writeImageGrid } from '../../io/image.js';
import { Rng } from '../../tensor/rng.js';
import { varPreset, VQVAE_CH160V4096Z32 } from '../../models/var/config.js';
import { sampleImages } from '../../models/var/generate.js';
import { loadVar, loadVqvae, varDepthOf } from '../../models/var/load.js';
import { UsageError, guarded, intListFlag, numberFlag, parseArgs, wantsHelp } from '../args.js';

const HELP = `Usage: ddar sample var --var FILE --vae FILE [options]

Samples class-conditional 256×256 images from a VAR teacher (var_d16/20/24/30.pth or a
safetensors conversion) with its VQVAE (vae_ch160v4096z32.pth), scale by scale with a KV
cache and classifier-free guidance (weight cfg·k/9 at scale k), and writes a PNG grid.

Options:
  --var FILE        VAR teacher weights (.pth/.pt/.safetensors)          (required)
  --vae FILE        VQVAE weights (.pth/.pt/.safetensors)                (required)
  --depth N         16, 20, 24 or 30 (default: read from the checkpoint)
  --classes LIST    ImageNet class ids, comma-separated; -1 = unconditional
                    (default 207,360,387,974,88,979,417,279)
  --per-class N     images per class (default 1)
  --cfg X           guidance ratio (default 1.5; DD's teacher setting is 2.0)
  --top-k K         keep the K largest logits per token, 0 = off (default 900)
  --top-p P         VAR's nucleus rule, 0 = off (default 0.96)
  --seed S          seed of the sampling Rng (default 0)
  --nrow N          images per grid row (default 8)
  --out FILE        output PNG (default var_samples.png)
  -h, --help        show this help

Example:
  ddar sample var --var var_d16.pth --vae vae_ch160v4096z32.pth --classes 207,360 --cfg 1.5 \\
    --top-k 900 --top-p 0.96 --seed 0 --out grid.png`;

interface SampleVarArgs {
  varPath: string;
  vaePath: string;
  depth: number | null;
  classes: number[];
  perClass: number;
  cfg: number;
  topK: number;
  topP: number;
  seed: number;
  nrow: number;
  out: string;
}

const VALUED = [
  '--var',
  '--vae',
  '--depth',
  '--classes',
  '--per-class',
  '--cfg',
  '--top-k',
  '--top-p',
  '--seed',
  '--nrow',
  '--out',
];

function parse(argv: readonly string[]): SampleVarArgs {
  const { flags: f } = parseArgs(argv, VALUED, [], { positional: false });
  const int = (flag: string, def: number) =>
    numberFlag(f, flag, def, Number.isInteger, 'an integer');
  const depth = f.get('--depth');
  const a: SampleVarArgs = {
    varPath: f.get('--var') ?? '',
    vaePath: f.get('--vae') ?? '',
    depth: depth === undefined ? null : int('--depth', 0),
    classes: intListFlag(f, '--classes') ?? [207, 360, 387, 974, 88, 979, 417, 279],
    perClass: int('--per-class', 1),
    cfg: numberFlag(f, '--cfg', 1.5, () => true, 'a number'),
    topK: int('--top-k', 900),
    topP: numberFlag(f, '--top-p', 0.96, () => true, 'a number'),
    seed: int('--seed', 0),
    nrow: int('--nrow', 8),
    out: f.get('--out') ?? 'var_samples.png',
  };
  if (a.varPath === '' || a.vaePath === '') throw new UsageError('--var and --vae are required');
  if (a.perClass < 1) throw new UsageError('--per-class must be at least 1');
  if (a.classes.length === 0) throw new UsageError('--classes is empty');
  if (a.seed < 0) throw new UsageError('--seed must be ≥ 0');
  if (a.topP < 0 || a.topP > 1) throw new UsageError('--top-p must be in [0, 1]');
  return a;
}

/** `ddar sample var …`; returns the process exit code. */
export async function sampleVar(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(HELP);
    return 0;
  }
  return guarded('sample var', () => {
    const args = parse(argv);
    const t0 = performance.now();
    const src = openCheckpoint(args.varPath);
    const found = varDepthOf(src.entries.map((e) => e.name));
    src.close();
    if (found === null) {
      throw new Error(`${args.varPath} has no blocks.N.* tensors; is it a VAR teacher checkpoint?`);
    }
    if (args.depth !== null && args.depth !== found) {
      throw new Error(
        `--depth ${args.depth} but ${args.varPath} has ${found} blocks; drop --depth or pass ${found}`,
      );
    }
    const model = loadVar(args.varPath, varPreset(found)).model;
    const vae = loadVqvae(args.vaePath, VQVAE_CH160V4096Z32).model;
    const nc = model.numClasses;
    const labels = new Int32Array(args.classes.length * args.perClass);
    args.classes.forEach((c, i) => {
      if (c >= nc || c < -1)
        throw new Error(`class ${c} is outside [0, ${nc}) (−1 = unconditional)`);
      labels.fill(c < 0 ? nc : c, i * args.perClass, (i + 1) * args.perClass);
    });
    const tl = performance.now();
    console.error(
      `loaded VAR-d${found} and VQVAE in ${((tl - t0) / 1000).toFixed(1)} s; sampling ${labels.length} image(s)`,
    );
    const SN = model.sched.SN;
    let last = tl;
    const { images } = sampleImages(model, vae, {
      labels,
      cfg: args.cfg,
      topK: args.topK,
      topP: args.topP,
      rng: new Rng(args.seed),
      onScale: (s) => {
        const now = performance.now();
        const pn = model.sched.patchNums[s.k] as number;
        console.error(
          `  scale ${s.k + 1}/${SN} (${pn}×${pn}) ${((now - last) / 1000).toFixed(2)} s`,
        );
        last = now;
      },
    });
    const td = performance.now();
    console.error(`  decode ${((td - last) / 1000).toFixed(2)} s`);
    const out = resolve(args.out);
    writeImageGrid(out, images, { nrow: args.nrow });
    const secs = (td - tl) / 1000;
    console.error(
      `wrote ${out}: ${labels.length} image(s) in ${secs.toFixed(1)} s (${(labels.length / secs).toFixed(3)} images/s)`,
    );
    return 0;
  });
}
