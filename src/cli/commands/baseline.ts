// `ddar baseline onestep|skip-n …`: the DD paper's parallel-decoding baselines (see
// src/dd/train/baselines.ts). Both write token indices [n, L] and classes [n] to a safetensors
// file (decode them with the family's tokenizer like any teacher tokens).
//   ddar baseline onestep --dataset DIR --n N --out FILE [--classes a,b] [--seed S]
//   ddar baseline skip-n --skip K (--var FILE --vae FILE [--depth 16] | --fixture DIR) --n N --out FILE
//                        [--classes a,b] [--seed S] [--cfg 2.0] [--top-k 900] [--top-p 0] [--batch 8]

import { resolve } from 'node:path';
import { openDataset } from '../../dd/dataset.js';
import { fitOnestep, sampleOnestep, sampleSkipN } from '../../dd/train/baselines.js';
import { saveSafetensors } from '../../io/safetensors.js';
import { Rng } from '../../tensor/rng.js';
import { Tensor } from '../../tensor/tensor.js';
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
import { loadTeacher } from './train-teacher.js';

const HELP = `usage:
  ddar baseline onestep --dataset DIR --n N --out FILE.safetensors [--classes a,b,…] [--seed S]
      onestep*: every position drawn independently from its per-class marginal, counted over
      the tokens of a datagen dataset (its classes must cover the requested ones).
  ddar baseline skip-n --skip K (--var FILE --vae FILE [--depth 16] | --fixture DIR) --n N
      --out FILE.safetensors [--classes a,b,…] [--seed S] [--cfg 2.0] [--top-k 900] [--top-p 0] [--batch 8]
      skip-n (VAR): the teacher samples all but the last K scales, then predicts those K scales
      in one parallel pass from f̂ as it stands (SN − K + 1 network passes).
Writes tokens (int32 [n, L]) and class (int32 [n]).`;

const VALUED = [
  '--dataset',
  '--n',
  '--out',
  '--classes',
  '--seed',
  '--skip',
  '--var',
  '--vae',
  '--depth',
  '--fixture',
  '--cfg',
  '--top-k',
  '--top-p',
  '--batch',
];

function labelsFor(n: number, classes: readonly number[], seed: number): Int32Array {
  const pick = new Rng(seed, 2 ** 42).randint(n, classes.length);
  return pick.map((i) => classes[i] as number);
}

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || wantsHelp(argv)) {
    console.log(HELP);
    return sub === undefined ? 2 : 0;
  }
  return guarded('baseline', async () => {
    const { flags: f } = parseArgs(rest, VALUED);
    const n = numberFlag(
      f,
      '--n',
      NaN,
      (v) => Number.isInteger(v) && v >= 1,
      'a positive integer (--n is required)',
    );
    if (!Number.isFinite(n)) throw new UsageError('--n is required (number of samples)');
    const out = resolve(requiredFlag(f, '--out', 'the output .safetensors file'));
    const seed = numberFlag(
      f,
      '--seed',
      0,
      (v) => Number.isSafeInteger(v) && v >= 0,
      'a non-negative integer',
    );
    let tokens: Int32Array;
    let labels: Int32Array;
    let L: number;
    if (sub === 'onestep') {
      const ds = openDataset(resolve(requiredFlag(f, '--dataset', 'a datagen dataset folder')));
      const cls = ds.index.config.classes;
      const numClasses = Math.max(...(cls ?? [0]), ...(intListFlag(f, '--classes') ?? [0])) + 1;
      const classes =
        intListFlag(f, '--classes') ?? cls ?? Array.from({ length: numClasses }, (_, i) => i);
      let V = 0;
      for (let i = 0; i < ds.index.chunks.length; i++)
        for (const t of ds.readChunk(i).tokens) V = Math.max(V, t + 1);
      let maxClass = 0;
      for (let i = 0; i < ds.index.chunks.length; i++)
        for (const c of ds.readChunk(i).classes) maxClass = Math.max(maxClass, c);
      const table = fitOnestep(ds, Math.max(maxClass + 1, numClasses), V);
      labels = labelsFor(n, classes, seed);
      tokens = sampleOnestep(table, labels, new Rng(seed, 2 ** 42 + 1));
      L = ds.seqLen;
    } else if (sub === 'skip-n') {
      const skip = numberFlag(
        f,
        '--skip',
        NaN,
        (v) => Number.isInteger(v) && v >= 1,
        'a positive integer (--skip is required)',
      );
      if (!Number.isFinite(skip))
        throw new UsageError('--skip K is required (scales predicted in the final parallel pass)');
      const fixture = f.get('--fixture');
      const t = await loadTeacher(
        'var',
        fixture
          ? { fixture }
          : {
              var: requiredFlag(f, '--var', 'the VAR checkpoint'),
              vae: requiredFlag(f, '--vae', 'the VQVAE checkpoint'),
              depth: numberFlag(f, '--depth', 16, Number.isInteger, 'an integer'),
            },
      );
      if (t.family !== 'var') throw new UsageError('skip-n is a VAR baseline');
      const classes =
        intListFlag(f, '--classes') ?? Array.from({ length: t.model.numClasses }, (_, i) => i);
      const opts = {
        n: skip,
        cfg: numberFlag(f, '--cfg', 2, (v) => v >= 0, 'a number ≥ 0'),
        topK: numberFlag(f, '--top-k', 900, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
        topP: numberFlag(f, '--top-p', 0, (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
      };
      const batch = numberFlag(
        f,
        '--batch',
        8,
        (v) => Number.isInteger(v) && v >= 1,
        'a positive integer',
      );
      labels = labelsFor(n, classes, seed);
      L = t.model.sched.L;
      tokens = new Int32Array(n * L);
      const bar = progressLine(`skip-${skip}`, 'samples');
      for (let a = 0; a < n; a += batch) {
        const lab = labels.subarray(a, Math.min(n, a + batch));
        tokens.set(sampleSkipN(t.model, t.vae.quantize, lab, opts, new Rng(seed, a)), a * L);
        bar({ done: Math.min(n, a + batch), total: n });
      }
    } else throw new UsageError(`unknown baseline '${sub}' (onestep, skip-n)`);
    saveSafetensors(
      out,
      new Map([
        ['tokens', new Tensor(tokens, [n, L])],
        ['class', new Tensor(labels, [n])],
      ]),
      { metadata: { baseline: sub } },
    );
    console.log(`${sub}: ${n} samples of ${L} tokens → ${out}`);
    return 0;
  });
}
