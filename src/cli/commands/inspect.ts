// ddar inspect FILE: lists the tensors of a checkpoint (.safetensors, .pt, .pth, .bin) with
// their stored dtype and shape, and the total parameter count. Reads headers / the pickle
// only; tensor data is not loaded.

import { openCheckpoint, type CheckpointEntry } from '../../io/checkpoint.js';

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
  const files: string[] = [];
  let key: string | undefined;
  let prefix: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : argv[++i]);
    if (flag === '-h' || flag === '--help') {
      process.stdout.write(`${HELP}\n`);
      return 0;
    } else if (flag === '--key') key = value();
    else if (flag === '--prefix') prefix = value();
    else if (flag === '--json') json = true;
    else if (arg.startsWith('-')) {
      process.stderr.write(`ddar inspect: unknown option ${arg} (HINT: ddar inspect --help)\n`);
      return 2;
    } else files.push(arg);
    if (
      (flag === '--key' || flag === '--prefix') &&
      (key === '' || prefix === '' || (flag === '--key' ? key : prefix) === undefined)
    ) {
      process.stderr.write(`ddar inspect: ${flag} needs a value (HINT: ddar inspect --help)\n`);
      return 2;
    }
  }
  if (files.length !== 1) {
    process.stderr.write(
      `ddar inspect: expected one FILE, found ${files.length} (HINT: ddar inspect --help)\n`,
    );
    return 2;
  }
  const file = files[0] as string;
  try {
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
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg =
      err.code === 'ENOENT' && err.path !== undefined
        ? `no such file: ${err.path}; HINT: check the path`
        : err.message.replace(/\s+/g, ' ');
    process.stderr.write(
      `ddar inspect: ${msg}${msg.includes('HINT') ? '' : ' (HINT: ddar inspect --help)'}\n`,
    );
    return 1;
  }
}
