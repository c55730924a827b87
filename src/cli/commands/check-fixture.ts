// ddar check-fixture DIR: recomputes the outputs recorded in a parity fixture folder (see
// ../shared/fixtures/README.md) and compares them with the official results. The folder's
// config.json `kind` selects the checker from a small table; each checker rebuilds the model
// from config.json, loads weights.pt and weights.safetensors, and reports one line per output.
// Exit status: 0 all pass, 1 any FAIL (or an error), 2 usage / unsupported kind.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError, guarded, parseArgs, wantsHelp } from '../args.js';
import { readJsonObject } from '../../io/json.js';
import { formatReport, type CheckLine } from '../../models/fixture-report.js';

type Checker = (dir: string) => readonly CheckLine[];

/** kind → checker (loaded on demand). Other families add their kinds here. */
const CHECKERS: Record<string, () => Promise<Checker>> = {
  llamagen_gpt: async () => {
    const { checkLlamagenGptFixture } = await import('../../models/llamagen/fixture.js');
    return (dir) => checkLlamagenGptFixture(dir).lines;
  },
  llamagen_vq: async () => {
    const { checkLlamagenVqFixture } = await import('../../models/llamagen/fixture.js');
    return (dir) => checkLlamagenVqFixture(dir).lines;
  },
  llamagen_dd: async () => {
    const { checkLlamagenDDFixture } = await import('../../dd/students/llamagen/fixture.js');
    return (dir) => checkLlamagenDDFixture(dir).lines;
  },
  var_vqvae: async () => (await import('../../models/var/fixture.js')).checkVarVqvaeFixture,
  var_teacher: async () => (await import('../../models/var/fixture.js')).checkVarTeacherFixture,
  var_dd: async () => (await import('../../dd/students/var/fixture.js')).checkVarDDFixture,
};

const HELP = `Usage: ddar check-fixture DIR [--json]

Checks a parity fixture folder (config.json, weights.pt, weights.safetensors, io.safetensors):
rebuilds the model named by config.json "kind", recomputes every output present in
io.safetensors and prints, per output, the max abs error, the tolerance and PASS/FAIL.
Tolerance: integers exact; floats 1e-4 · max(1, max|expected|).

Supported kinds: ${Object.keys(CHECKERS).join(', ')}

Options:
  --json       one JSON object per line instead of the table
  -h, --help   show this help

Exit status: 0 all PASS, 1 any FAIL, 2 bad usage or an unsupported kind.`;

export async function run(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(HELP);
    return 0;
  }
  return guarded('check-fixture', () => check(argv));
}

function readKind(cfgPath: string): string {
  if (!existsSync(cfgPath))
    throw new UsageError(
      `${cfgPath} not found; DIR must be a fixture folder such as ../shared/fixtures/llamagen_gpt`,
    );
  let kind: unknown;
  try {
    kind = readJsonObject(cfgPath)['kind'];
  } catch (e) {
    throw new UsageError(
      `${cfgPath} is not valid JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  if (typeof kind !== 'string') throw new UsageError(`${cfgPath} has no string "kind"`);
  return kind;
}

async function check(argv: readonly string[]): Promise<number> {
  const { flags, positional } = parseArgs(argv, [], ['--json']);
  const json = flags.has('--json');
  if (positional.length !== 1) throw new UsageError('expected one fixture folder');
  const dir = resolve(positional[0] as string);
  const kind = readKind(join(dir, 'config.json'));
  const load = CHECKERS[kind];
  if (!load) {
    console.error(
      `kind ${kind} is not supported yet (supported: ${Object.keys(CHECKERS).join(', ')})`,
    );
    return 2;
  }
  let lines: readonly CheckLine[];
  try {
    lines = (await load())(dir);
  } catch (e) {
    throw new Error(`${dir} (${kind}): ${e instanceof Error ? e.message : String(e)}`);
  }
  if (json) {
    for (const l of lines)
      console.log(
        JSON.stringify({ kind, ...l, maxErr: Number.isFinite(l.maxErr) ? l.maxErr : null }),
      );
  } else for (const line of formatReport(kind, dir, lines)) console.log(line);
  return lines.every((l) => l.pass) ? 0 : 1;
}
