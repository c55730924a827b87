// `ddar train --config FILE.json [--resume]`: distil a teacher into a DD student on a datagen
// dataset (see src/dd/train/). Prints every setting (defaults marked) at the start, a progress
// line on stderr, checkpoints into the config's `out` folder; --resume continues the current
// checkpoint bit-identically.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { openDataset } from '../../dd/dataset.js';
import { TRAIN_DEFAULTS, describeConfig, parseTrainConfig } from '../../dd/train/config.js';
import { hasCheckpoint } from '../../dd/train/checkpoint.js';
import { llamagenStudent, varStudent } from '../../dd/train/student.js';
import { Trainer, formatProgress } from '../../dd/train/trainer.js';
import { loadLpips } from '../../eval/lpips.js';
import type * as T from '../../tensor/index.js';
import { Rng } from '../../tensor/rng.js';
import { UsageError, guarded, parseArgs, requiredFlag, wantsHelp } from '../args.js';
import { progressWriter } from '../progress.js';
import { loadTeacher } from './train-teacher.js';

const HELP = `usage: ddar train --config FILE.json [--resume]

Trains a Distilled Decoding student (initialised from the teacher) on a datagen dataset.
The config is a JSON object; required keys: family ("llamagen" | "var"), dataset (folder),
out (run folder), teacher ({"gpt","vq","preset"} | {"var","vae","depth"} | {"fixture"}).
Optional keys and defaults:
${Object.entries(TRAIN_DEFAULTS)
  .map(([k, v]) => `  ${k.padEnd(16)} ${JSON.stringify(v)}`)
  .join('\n')}
(timesteps null = [0, mid]: LlamaGen round(80·L/256), VAR ⌊SN/2⌋; splitT null = logits head everywhere)
lpips: {"weights": FILE, "vgg": FILE, "weight": 1, "every": 1} adds weight·LPIPS-VGG (v0.1) between
  the decoded student latent and the decoded target on every k-th step; weights = the lpips
  package's weights/v0.1/vgg.pth (lin layers) or a combined state dict, vgg = torchvision's vgg16
  weights (.pth/.safetensors). Costly: a VQ decode + VGG16 forward/backward per sample.

--resume   continue from out/latest.json (only bookkeeping keys and steps may change)
Outputs in out/: ckpt-SSSSSSSS.safetensors + .json (model, EMA, AdamW state), latest.json,
metrics.jsonl (one JSON line per logged step and per validation).`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv) || argv.length === 0) {
    console.log(HELP);
    return argv.length === 0 ? 2 : 0;
  }
  return guarded('train', async () => {
    const { flags } = parseArgs(argv, ['--config'], ['--resume']);
    const path = resolve(requiredFlag(flags, '--config', 'a JSON file of training settings'));
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UsageError(`--config ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const cfg = parseTrainConfig(raw, path);
    const resume = flags.has('--resume');
    if (!resume && hasCheckpoint(cfg.out))
      throw new UsageError(
        `${cfg.out} already holds a checkpoint; pass --resume to continue it or choose another "out"`,
      );
    console.error(
      `train: settings (${path}):\n${describeConfig(cfg, raw as Record<string, unknown>)}`,
    );
    const t = await loadTeacher(cfg.family, cfg.teacher);
    const rng = new Rng(cfg.seed, 2 ** 41);
    const student =
      t.family === 'llamagen' ? llamagenStudent(t.gpt, t.vq, rng) : varStudent(t.model, t.vae, rng);
    const ds = openDataset(resolve(cfg.dataset));
    console.error(
      `train: ${student.family} student, ${student.module.numParameters()} parameters; dataset ${ds.numSamples} pairs (${cfg.valSamples} held out)`,
    );
    const lp = cfg.lpips
      ? loadLpips(resolve(cfg.lpips.weights), cfg.lpips.vgg && resolve(cfg.lpips.vgg))
      : null;
    if (lp && cfg.lpips)
      console.error(
        `train: LPIPS-VGG loaded (${lp.numParameters()} parameters), weight ${cfg.lpips.weight} every ${cfg.lpips.every} step(s)`,
      );
    const tty = process.stderr.isTTY === true;
    const write = progressWriter({ ttyMs: 200, logMs: 30000 });
    const trainer = new Trainer(cfg, student, ds, {
      onProgress: (p) => write(formatProgress(p), p.step, p.total),
      onLog: (line) => process.stderr.write(`${tty ? '\n' : ''}train: ${line}\n`),
      ...(lp ? { perceptual: (a: T.Tensor, b: T.Tensor) => lp.forward(a, b) } : {}),
    });
    if (resume) trainer.resume();
    trainer.run();
    console.log(`trained to step ${trainer.step}; checkpoints and metrics.jsonl in ${cfg.out}`);
    return 0;
  });
}
