// ddar convert IN OUT.safetensors: a torch.save checkpoint (or a safetensors file) to
// safetensors, optionally selecting a nested state dict, filtering by prefix and changing
// the float storage dtype. Reads .pt files with the safe unpickler (nothing is executed).

import { resolve } from 'node:path';
import { openCheckpoint } from '../../io/checkpoint.js';
import { saveSafetensors } from '../../io/safetensors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { UsageError, guarded, parseArgs, wantsHelp } from '../args.js';

const HELP = `Usage: ddar convert IN OUT.safetensors [options]

Converts a PyTorch checkpoint (.pt/.pth/.bin saved by torch>=1.6) or a safetensors file to
safetensors. .pt files are read with a restricted unpickler: only tensors, dicts and plain
values are accepted, nothing in the file is executed.

Options:
  --key PATH        state dict inside the checkpoint, e.g. model, ema, state_dict,
                    trainer.ema_parameters (default: the top level if it is a dict of
                    tensors, else the only one of model/ema/state_dict/module)
  --prefix P        keep only tensors whose name starts with P
  --strip-prefix    remove P from the kept names (requires --prefix)
  --dtype T         float storage: f32, f16 or bf16 (default: f16/bf16 if every float
                    tensor of the input is stored so, else f32)
  --force           overwrite OUT if it exists
  -h, --help        show this help

Integer tensors are written as I64 if the input stores any as int64, else I32.
Writes are atomic (temporary file, fsync, rename).

Examples:
  ddar convert vq_ds16_c2i.pt vq.safetensors
  ddar convert c2i_L_256.pt gpt.safetensors --key model --dtype bf16
  ddar convert ckpt.pth ema.safetensors --key trainer.ema_parameters`;

interface ConvertArgs {
  input: string;
  output: string;
  key?: string;
  prefix?: string;
  strip: boolean;
  dtype?: 'F32' | 'F16' | 'BF16';
  force: boolean;
}

const DTYPES: Readonly<Record<string, 'F32' | 'F16' | 'BF16'>> = {
  f32: 'F32',
  float32: 'F32',
  f16: 'F16',
  float16: 'F16',
  fp16: 'F16',
  bf16: 'BF16',
  bfloat16: 'BF16',
};

function parse(argv: readonly string[]): ConvertArgs {
  const { flags: f, positional: pos } = parseArgs(
    argv,
    ['--key', '--prefix', '--dtype'],
    ['--strip-prefix', '--force'],
  );
  const a: Omit<ConvertArgs, 'input' | 'output'> = {
    strip: f.has('--strip-prefix'),
    force: f.has('--force'),
  };
  const key = f.get('--key');
  if (key !== undefined) a.key = key;
  const prefix = f.get('--prefix');
  if (prefix !== undefined) a.prefix = prefix;
  const dt = f.get('--dtype')?.toLowerCase();
  if (dt !== undefined) {
    const d = DTYPES[dt];
    if (d === undefined) throw new UsageError(`--dtype must be f32, f16 or bf16, found '${dt}'`);
    a.dtype = d;
  }
  if (pos.length !== 2)
    throw new UsageError(`expected IN and OUT paths, found ${pos.length} argument(s)`);
  if (a.strip && a.prefix === undefined) throw new UsageError('--strip-prefix needs --prefix P');
  const [input, output] = pos as [string, string];
  if (!output.toLowerCase().endsWith('.safetensors'))
    throw new UsageError(`OUT must end in .safetensors, found '${output}'`);
  if (resolve(input) === resolve(output)) throw new UsageError('IN and OUT are the same file');
  return { input, output, ...a };
}

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  return guarded(
    'convert',
    async () => {
      const args = parse(argv);
      const { existsSync } = await import('node:fs');
      if (!args.force && existsSync(args.output))
        throw new Error(`${args.output} exists; HINT: pass --force to overwrite it`);
      const src = openCheckpoint(args.input, args.key !== undefined ? { key: args.key } : {});
      const out = new Map<string, Tensor>();
      let anyI64 = false;
      const floatStored = new Set<string>();
      try {
        for (const e of src.entries) {
          if (args.prefix !== undefined && !e.name.startsWith(args.prefix)) continue;
          const name =
            args.strip && args.prefix !== undefined ? e.name.slice(args.prefix.length) : e.name;
          if (name === '')
            throw new Error(`tensor '${e.name}' would get an empty name after --strip-prefix`);
          if (out.has(name)) throw new Error(`two tensors map to the name '${name}'`);
          if (e.dtype === 'I64') anyI64 = true;
          if (e.dtype === 'F32' || e.dtype === 'F16' || e.dtype === 'BF16' || e.dtype === 'F64')
            floatStored.add(e.dtype);
          out.set(name, src.get(e.name));
        }
      } finally {
        src.close();
      }
      if (out.size === 0) {
        const sample = src.entries
          .slice(0, 5)
          .map((e) => e.name)
          .join(', ');
        throw new Error(
          `no tensors selected${args.prefix !== undefined ? ` with prefix '${args.prefix}'` : ''}; names look like: ${sample || '(none)'}; HINT: check --prefix / --key with ddar inspect`,
        );
      }
      const only = floatStored.size === 1 ? [...floatStored][0] : undefined;
      const dtype = args.dtype ?? (only === 'F16' || only === 'BF16' ? only : 'F32');
      const metadata: Record<string, string> = {
        ...src.metadata,
        'ddar.converted_from': args.input,
      };
      if (src.key !== null) metadata['ddar.key'] = src.key;
      saveSafetensors(args.output, out, { dtype, intDtype: anyI64 ? 'I64' : 'I32', metadata });
      let params = 0;
      for (const t of out.values()) params += t.size;
      process.stdout.write(
        `wrote ${args.output}: ${out.size} tensors, ${params.toLocaleString('en-US')} values, floats as ${dtype}${src.key !== null ? ` (from key '${src.key}')` : ''}\n`,
      );
      return 0;
    },
    { hint: 'HINT: ddar inspect IN shows what the file holds' },
  );
}
