// Shared types of the benchmark suites (`ddar bench`).

export interface BenchRow {
  readonly suite: string;
  readonly name: string;
  readonly backend: string;
  readonly value: number;
  readonly unit: string;
  /** A reference measured in the same run (e.g. numpy), when available. */
  readonly ref?: { readonly backend: string; readonly value: number };
}

export interface BenchSuite {
  readonly name: string;
  run(opts: { quick: boolean }): Promise<BenchRow[]>;
}
