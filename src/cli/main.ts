// ddar CLI dispatcher: argv → command module (loaded on demand) → exit code.
// Commands parse their own flags into typed configs and call the library.

import { selectBackend } from '../backend/select.js';

interface Command {
  readonly summary: string;
  load(): Promise<{ run(argv: string[]): Promise<number> }>;
}

const commands: Record<string, Command> = {
  sample: { summary: 'sample images from a teacher or a DD student (llamagen, var, llamagen-dd, var-dd)', load: () => import('./commands/sample.js') },
  'check-fixture': { summary: 'recompute an official-model fixture folder and compare every output', load: () => import('./commands/check-fixture.js') },
  datagen: { summary: 'generate (class, tokens, noise) distillation datasets with the flow map; merge, verify', load: () => import('./commands/datagen.js') },
  train: { summary: 'distil a teacher into a DD student (checkpoints, --resume, validation)', load: () => import('./commands/train.js') },
  baseline: { summary: 'parallel-decoding baselines: onestep*, skip-n (VAR)', load: () => import('./commands/baseline.js') },
  'toy-joint': { summary: 'see DD work end to end on a tiny exactly-computable teacher (TV distances)', load: () => import('./commands/toy-joint.js') },
  bench: { summary: 'run benchmark suites and print a table (or --json lines)', load: () => import('./commands/bench.js') },
  inspect: { summary: 'list tensor names, shapes and dtypes of a .pt/.pth/.safetensors file', load: () => import('./commands/inspect.js') },
  convert: { summary: 'convert a PyTorch checkpoint to safetensors', load: () => import('./commands/convert.js') },
  backend: { summary: 'show which compute backend is active and why', load: () => import('./commands/backend.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((k) => k.length));
  return [
    'ddar — Distilled Decoding for autoregressive image models (LlamaGen, VAR)',
    '',
    'usage: ddar <command> [options]     (ddar <command> --help for its options)',
    '',
    'commands:',
    ...Object.entries(commands).map(([k, c]) => `  ${k.padEnd(width)}  ${c.summary}`),
    '',
    'environment: DDAR_BACKEND=native|ts (default: native when built), DDAR_THREADS=N',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  if (name === '--version') {
    console.log('ddar 0.1.0');
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`ddar: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const choice = selectBackend(process.env.DDAR_BACKEND);
  if (choice.warning) console.error(`ddar: ${choice.warning}`);
  const mod = await cmd.load();
  return mod.run(rest);
}
