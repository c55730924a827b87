// ddar inspect FILE: lists the tensors of a checkpoint (.safetensors, .pt, .pth, .bin) with
// their stored dtype and shape, and the total parameter count. Reads headers / the pickle
// only; tensor data is not loaded.

import { openCheckpoint, type CheckpointEntry } from '../../io/checkpoint.js';
import { UsageError, guarded, parseArgs, wantsHelp } from '../args.js';

const HELP = `Usage: ddar inspect FILE [options]

Lists name, dtype and shape of every tensor in a checkpoint (.safetensors, or .pt/.pth/.bin
saved by torch>=1.6) and the total parameter count. Tensor data is not read. .pt files are
read with a restricted unpickler: nothing in the file is executed.

Options:
  --key PATH      state dict inside a .pt checkpoint (model, ema, trainer.ema_parameters, ...)
  --prefix P      list only tensors whose name starts with P
  --json          print JSON instead of a table
  -h, --help      show this help

Examples:
  ddar inspect weights.safetensors
  ddar inspect ckpt.pth --key trainer.ema_parameters`;

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function table(entries: readonly CheckpointEntry[]): string {
  const rows = entries.map((e) => [
    e.name,
    e.dtype,
    `[${e.shape.join(', ')}]`,
    numel(e.shape).toLocaleString('en-US'),
  ]);
  const head = ['name', 'dtype', 'shape', 'numel'];
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === 3 ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  return guarded('inspect', () => inspect(argv), { hint: 'HINT: ddar inspect --help' });
}

function inspect(argv: readonly string[]): number {
  const { flags, positional: files } = parseArgs(argv, ['--key', '--prefix'], ['--json']);
  const key = flags.get('--key');
  const prefix = flags.get('--prefix');
  const json = flags.has('--json');
  if (files.length !== 1) throw new UsageError(`expected one FILE, found ${files.length}`);
  const file = files[0] as string;
  const src = openCheckpoint(file, key !== undefined ? { key } : {});
  try {
    const entries = src.entries.filter((e) => prefix === undefined || e.name.startsWith(prefix));
    let params = 0;
    const byDtype = new Map<string, number>();
    for (const e of entries) {
      const n = numel(e.shape);
      params += n;
      byDtype.set(e.dtype, (byDtype.get(e.dtype) ?? 0) + n);
    }
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ file, format: src.format, key: src.key, metadata: src.metadata, tensors: entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape })), parameters: params }, null, 2)}\n`,
      );
      return 0;
    }
    const lines = [
      `${file}: ${src.format}${src.key !== null ? `, state dict at key '${src.key}'` : ''}`,
    ];
    for (const [k, v] of Object.entries(src.metadata))
      lines.push(
        `metadata ${k}: ${v.length > 200 ? `${v.slice(0, 200)}... (${v.length} chars)` : v}`,
      );
    lines.push(table(entries));
    const mix = [...byDtype].map(([d, n]) => `${d} ${n.toLocaleString('en-US')}`).join(', ');
    lines.push(
      `${entries.length} tensors, ${params.toLocaleString('en-US')} parameters${mix !== '' ? ` (${mix})` : ''}`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } finally {
    src.close();
  }
}
