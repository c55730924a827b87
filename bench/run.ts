// `ddar bench [SUITE…] [--json] [--quick]`: runs benchmark suites and prints one table per
// suite (value per backend, plus any same-run reference and the ratio to it), or with --json
// one JSON object per row: {"suite","name","backend","value","unit"[,"ref"]}.

import type { BenchRow, BenchSuite } from './types.js';

const SUITES: Record<string, () => Promise<{ suite: BenchSuite }>> = {
  gemm: () => import('./suites/gemm.js'),
  attention: () => import('./suites/attention.js'),
  conv2d: () => import('./suites/conv2d.js'),
  block: () => import('./suites/block.js'),
  llamagen: () => import('./suites/llamagen.js'),
  flow: () => import('./suites/flow.js'),
  var: () => import('./suites/var.js'),
  'dd-llamagen': () => import('./suites/dd-llamagen.js'),
  'dd-var': () => import('./suites/dd-var.js'),
  'dd-train': () => import('./suites/dd-train.js'),
};

export const suiteNames = Object.keys(SUITES);

function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['name', 'backend', 'value', 'unit', 'reference', 'ratio'];
  const body = rows.map((r) => [
    r.name,
    r.backend,
    fmtNum(r.value),
    r.unit,
    r.ref ? `${r.ref.backend} ${fmtNum(r.ref.value)}` : '',
    r.ref ? `${fmtNum(r.value / r.ref.value)}×` : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export async function runBench(argv: string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(`usage: ddar bench [SUITE…] [--json] [--quick]\n\nsuites: ${suiteNames.join(', ')} (default: all)\n--json   one JSON object per row\n--quick  smaller sizes (smoke run)`);
    return 0;
  }
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  for (const n of names) {
    if (!SUITES[n]) {
      console.error(`ddar bench: unknown suite '${n}'; available: ${suiteNames.join(', ')}`);
      return 2;
    }
  }
  for (const n of names.length > 0 ? names : suiteNames) {
    const load = SUITES[n];
    if (!load) continue;
    const { suite } = await load();
    const rows = await suite.run({ quick });
    if (json) for (const r of rows) console.log(JSON.stringify(r));
    else console.log(`\n## ${suite.name}\n${formatTable(rows)}`);
  }
  return 0;
}
