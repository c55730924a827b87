// Comparison and reporting shared by the parity-fixture checkers (llamagen_gpt, llamagen_vq,
// llamagen_dd, var_vqvae, var_teacher, var_dd) and `ddar check-fixture`: one row per output.
//
// Tolerance (shared/fixtures/README.md): integers exact; floats
// max|actual − expected| ≤ relTol · max(1, max|expected|) over the finite expected entries, with
// non-finite entries (−∞ masks) matched position by position. When the actual values carry a
// shape (a Tensor or {data, shape}) it must equal the expected shape exactly; plain arrays are
// checked by length. (The VAR checkers used to accept shapes equal up to size-1 axes; every
// fixture output matches exactly, so the stricter LlamaGen rule now applies everywhere.)

import type { Tensor } from '../tensor/index.js';

/** One checked output: max abs error, its tolerance, PASS/FAIL, and why it failed beyond the numbers. */
export interface CheckLine {
  readonly name: string;
  readonly maxErr: number;
  readonly tol: number;
  readonly pass: boolean;
  readonly note?: string;
}

export interface FixtureReport {
  readonly kind: string;
  readonly dir: string;
  readonly lines: CheckLine[];
}

export const REL_TOL = 1e-4;

/** Values to compare: a flat array, or data with its shape (a Tensor fits). */
export type Values =
  ArrayLike<number> | { readonly data: ArrayLike<number>; readonly shape: readonly number[] };

function unpack(v: Values): [ArrayLike<number>, readonly number[] | undefined] {
  return 'data' in v && 'shape' in v ? [v.data, v.shape] : [v as ArrayLike<number>, undefined];
}

/** A failed line for a shape or length mismatch, or undefined when the sizes agree. */
function sizeMismatch(
  name: string,
  a: ArrayLike<number>,
  shape: readonly number[] | undefined,
  expected: Tensor,
): CheckLine | undefined {
  const fail = (note: string): CheckLine => ({ name, maxErr: Infinity, tol: 0, pass: false, note });
  if (
    shape !== undefined &&
    (shape.length !== expected.rank || shape.some((d, i) => d !== expected.shape[i]))
  )
    return fail(`shape [${shape.join(', ')}], expected [${expected.shape.join(', ')}]`);
  if (a.length !== expected.size)
    return fail(`${a.length} values, expected ${expected.size} ([${expected.shape.join(', ')}])`);
  return undefined;
}

/** Compares float results with the expected tensor under the fixture tolerance rule. */
export function compareFloat(
  name: string,
  actual: Values,
  expected: Tensor,
  relTol = REL_TOL,
): CheckLine {
  const [a, shape] = unpack(actual);
  const bad = sizeMismatch(name, a, shape, expected);
  if (bad) return bad;
  const e = expected.data;
  let scale = 0;
  for (const v of e) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const tol = relTol * Math.max(1, scale);
  let maxErr = 0;
  let infBad = 0;
  for (let i = 0; i < e.length; i++) {
    const y = e[i] as number;
    const x = a[i] as number;
    if (!Number.isFinite(y)) {
      if (x !== y) infBad++;
      continue;
    }
    const d = Math.abs(x - y);
    maxErr = Number.isNaN(d) ? Infinity : Math.max(maxErr, d);
  }
  const note = infBad > 0 ? `${infBad} non-finite entries differ` : undefined;
  return { name, maxErr, tol, pass: maxErr <= tol && infBad === 0, ...(note ? { note } : {}) };
}

/** Integer outputs must match exactly. */
export function compareInt(name: string, actual: Values, expected: Tensor): CheckLine {
  const [a, shape] = unpack(actual);
  const bad = sizeMismatch(name, a, shape, expected);
  if (bad) return bad;
  let differ = 0;
  let maxErr = 0;
  for (let i = 0; i < expected.size; i++) {
    const d = Math.abs((a[i] as number) - (expected.data[i] as number));
    if (d !== 0) differ++;
    maxErr = Number.isNaN(d) ? Infinity : Math.max(maxErr, d);
  }
  return {
    name,
    maxErr,
    tol: 0,
    pass: differ === 0,
    ...(differ > 0 ? { note: `${differ} of ${expected.size} differ` } : {}),
  };
}

/** compareInt for an int32 expected tensor, else compareFloat. */
export function compareOutput(
  name: string,
  actual: Values,
  expected: Tensor,
  relTol = REL_TOL,
): CheckLine {
  return expected.dtype === 'int32'
    ? compareInt(name, actual, expected)
    : compareFloat(name, actual, expected, relTol);
}

/** One report line: name, max abs error, tolerance, PASS/FAIL (+ note). */
export function formatCheckLine(l: CheckLine, width = 36): string {
  const e = Number.isFinite(l.maxErr) ? l.maxErr.toExponential(2) : String(l.maxErr);
  return `${l.name.padEnd(width)}  ${e.padStart(9)}  ${l.tol.toExponential(1).padStart(7)}  ${l.pass ? 'PASS' : 'FAIL'}${l.note ? `  ${l.note}` : ''}`;
}

/** Lines aligned on the longest name, one per row ('' for none). */
export function formatRows(lines: readonly CheckLine[]): string {
  const width = Math.max(6, ...lines.map((l) => l.name.length));
  return lines.map((l) => formatCheckLine(l, width)).join('\n');
}

/** The `ddar check-fixture` table: title, header, one line per output, summary. */
export function formatReport(kind: string, dir: string, lines: readonly CheckLine[]): string[] {
  const width = Math.max(6, ...lines.map((l) => l.name.length));
  const failed = lines.filter((l) => !l.pass).length;
  return [
    `${kind}  ${dir}`,
    `${'output'.padEnd(width)}  ${'max err'.padStart(9)}  ${'tol'.padStart(7)}  result`,
    ...lines.map((l) => formatCheckLine(l, width)),
    failed === 0 ? `all ${lines.length} checks PASS` : `${failed} of ${lines.length} checks FAIL`,
  ];
}

/** The weight files of a fixture hold the same tensors with identical values (NaN equals NaN). */
export function compareStateDicts(
  name: string,
  a: ReadonlyMap<string, Tensor>,
  b: ReadonlyMap<string, Tensor>,
): CheckLine {
  const fail = (note: string): CheckLine => ({ name, maxErr: Infinity, tol: 0, pass: false, note });
  const only = [...a.keys()]
    .filter((k) => !b.has(k))
    .concat([...b.keys()].filter((k) => !a.has(k)));
  if (only.length > 0) return fail(`keys in one file only: ${only.slice(0, 5).join(', ')}`);
  let maxErr = 0;
  for (const [k, t] of a) {
    const u = b.get(k) as Tensor;
    if (u.size !== t.size) return fail(`tensor ${k} differs in shape`);
    for (let i = 0; i < t.size; i++) {
      const x = t.data[i] as number;
      const y = u.data[i] as number;
      if (x !== y && !(Number.isNaN(x) && Number.isNaN(y)))
        maxErr = Math.max(maxErr, Number.isNaN(x - y) ? Infinity : Math.abs(x - y));
    }
  }
  return { name, maxErr, tol: 0, pass: maxErr === 0 };
}

/**
 * Lines for the outputs present in a fixture's io.safetensors; remembers which tensors were read,
 * so `finish` can fail every tensor that no rule checked.
 */
export class OutputChecker {
  readonly lines: CheckLine[] = [];
  private readonly used = new Set<string>();
  constructor(
    readonly io: ReadonlyMap<string, Tensor>,
    readonly dir: string,
  ) {}

  has(name: string): boolean {
    return this.io.has(name);
  }

  input(name: string): Tensor {
    const t = this.io.get(name);
    if (!t)
      throw new Error(
        `${this.dir}/io.safetensors: input '${name}' is missing; the fixture is incomplete`,
      );
    this.used.add(name);
    return t;
  }

  /** Compares when present (int32 outputs exactly); `compute` runs only then. */
  check(name: string, compute: () => Values, relTol = REL_TOL): void {
    const e = this.io.get(name);
    if (!e) return;
    this.used.add(name);
    this.lines.push(compareOutput(name, compute(), e, relTol));
  }

  /** A line comparing a result against an expectation, under its own name. */
  extra(name: string, actual: Values, expected: Tensor, relTol = REL_TOL): void {
    this.lines.push(compareOutput(name, actual, expected, relTol));
  }

  row(l: CheckLine): void {
    this.lines.push(l);
  }

  finish(): CheckLine[] {
    for (const name of this.io.keys())
      if (!this.used.has(name))
        this.lines.push({
          name,
          maxErr: Infinity,
          tol: 0,
          pass: false,
          note: 'unchecked: no rule computes this tensor',
        });
    return this.lines;
  }
}
