// Command-line flag parsing shared by the commands: `--flag value`, `--flag=value`, boolean
// switches and positional arguments, with usage errors that name the flag and the expectation.

export class UsageError extends Error {}

export interface ParsedArgs {
  readonly flags: Map<string, string>;
  readonly positional: string[];
}

export function parseArgs(argv: readonly string[], valued: readonly string[], switches: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (switches.includes(flag)) {
      flags.set(flag, 'true');
      continue;
    }
    if (!valued.includes(flag)) throw new UsageError(`unknown option '${flag}'`);
    const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
    flags.set(flag, v);
  }
  return { flags, positional };
}

export function numberFlag(flags: Map<string, string>, flag: string, def: number, check: (v: number) => boolean, what: string): number {
  const s = flags.get(flag);
  if (s === undefined) return def;
  const v = Number(s);
  if (!Number.isFinite(v) || !check(v)) throw new UsageError(`${flag} ${s}: expected ${what}`);
  return v;
}

export function intListFlag(flags: Map<string, string>, flag: string): number[] | undefined {
  const s = flags.get(flag);
  if (s === undefined) return undefined;
  const list = s.split(',').map((x) => Number(x.trim()));
  if (list.some((x) => !Number.isInteger(x))) throw new UsageError(`${flag} ${s}: expected comma-separated integers`);
  return list;
}

export function requiredFlag(flags: Map<string, string>, flag: string, hint: string): string {
  const v = flags.get(flag);
  if (v === undefined) throw new UsageError(`${flag} is required (${hint})`);
  return v;
}

/** Runs a command body, turning UsageError into exit 2 and other errors into one line, exit 1. */
export async function guarded(name: string, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    console.error(`ddar ${name}: ${msg}`);
    if (e instanceof UsageError) console.error(`HINT: ddar ${name} --help`);
    return e instanceof UsageError ? 2 : 1;
  }
}
