// Command-line flag parsing shared by the commands: `--flag value`, `--flag=value`, boolean
// switches, `-h`/`--help` and positional arguments, with usage errors that name the flag and the
// expectation; `guarded` turns a command body's errors into the exit codes 0 / 1 / 2.

/** A mistake in the command line: printed with a HINT to `--help`, exit status 2. */
export class UsageError extends Error {}

export interface ParsedArgs {
  readonly flags: Map<string, string>;
  readonly positional: string[];
}

export interface ParseOptions {
  /** Whether bare arguments are accepted (default true); false makes each one a UsageError. */
  readonly positional?: boolean;
}

/** True when the command line asks for help (`-h` or `--help` anywhere). */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes('-h') || argv.includes('--help');
}

/**
 * Splits argv into valued flags (`--flag value` or `--flag=value`), switches (stored as 'true')
 * and positional arguments. Any other argument that starts with `-` is an unknown option.
 */
export function parseArgs(
  argv: readonly string[],
  valued: readonly string[],
  switches: readonly string[] = [],
  opts: ParseOptions = {},
): ParsedArgs {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-') || arg === '-') {
      if (opts.positional === false) throw new UsageError(`unexpected argument '${arg}'`);
      positional.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
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

export function numberFlag(
  flags: Map<string, string>,
  flag: string,
  def: number,
  check: (v: number) => boolean,
  what: string,
): number {
  const s = flags.get(flag);
  if (s === undefined) return def;
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v) || !check(v))
    throw new UsageError(`${flag} ${s}: expected ${what}`);
  return v;
}

/** Comma-separated integers ≥ min (default: any integer); undefined when the flag is absent. */
export function intListFlag(
  flags: Map<string, string>,
  flag: string,
  min = -Infinity,
): number[] | undefined {
  const s = flags.get(flag);
  if (s === undefined) return undefined;
  const list = s.split(',').map((x) => (x.trim() === '' ? NaN : Number(x.trim())));
  if (list.some((x) => !Number.isInteger(x) || x < min)) {
    const what =
      min === 0 ? 'non-negative integers' : min > -Infinity ? `integers ≥ ${min}` : 'integers';
    throw new UsageError(`${flag} ${s}: expected comma-separated ${what}`);
  }
  return list;
}

export function requiredFlag(flags: Map<string, string>, flag: string, hint: string): string {
  const v = flags.get(flag);
  if (v === undefined) throw new UsageError(`${flag} is required (${hint})`);
  return v;
}

export interface GuardOptions {
  /**
   * Appended to runtime errors that carry no HINT of their own, e.g. 'HINT: ddar inspect --help';
   * such messages are also folded onto one line.
   */
  readonly hint?: string;
}

function runtimeMessage(e: unknown, hint: string | undefined): string {
  const err = e as NodeJS.ErrnoException;
  if (e instanceof Error && err.code === 'ENOENT' && err.path !== undefined)
    return `no such file: ${err.path}; HINT: check the path`;
  const msg = e instanceof Error ? e.message : String(e);
  if (hint === undefined) return msg;
  const one = msg.replace(/\s+/g, ' ');
  return one.includes('HINT') ? one : `${one} (${hint})`;
}

/**
 * Runs a command body: UsageError → `ddar NAME: message` and a HINT to `--help`, exit 2; any other
 * error → `ddar NAME: message`, exit 1 (a missing file is named as such).
 */
export async function guarded(
  name: string,
  body: () => Promise<number> | number,
  opts: GuardOptions = {},
): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`ddar ${name}: ${e.message}`);
      console.error(`HINT: ddar ${name} --help`);
      return 2;
    }
    console.error(`ddar ${name}: ${runtimeMessage(e, opts.hint)}`);
    return 1;
  }
}
