// `ddar bench`: see bench/run.ts.

export async function run(argv: string[]): Promise<number> {
  const { runBench } = await import('../../../bench/run.js');
  return runBench(argv);
}
