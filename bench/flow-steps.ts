// Measures how closely the flow map pushes N(0, I) onto p for each solver, grid and step
// count: prints χ²/dof of mapped tokens (≈ 1 means indistinguishable) and the time taken.
// usage: node dist/bench/flow-steps.js [V=4096] [support=500] [draws=20000]

import { flowFit, randomProblem } from '../src/dd/flow-stats.js';
import type { FlowGrid, FlowSolver } from '../src/dd/flow.js';

const V = Number(process.argv[2] ?? 4096);
const S = Number(process.argv[3] ?? 500);
const draws = Number(process.argv[4] ?? 20000);
const { codebook, p } = randomProblem(7, V, 8, S);
console.log(`V=${V} support=${S} d=8 draws=${draws}`);
console.log('solver  grid       steps  chi2/dof  dof  seconds');
for (const [solver, grid] of [['euler', 'quadratic'], ['heun', 'quadratic'], ['heun', 'uniform']] as [FlowSolver, FlowGrid][]) {
  for (const steps of [8, 16, 32]) {
    const t0 = performance.now();
    const r = flowFit(codebook, p, 8, draws, 3, { steps, solver, grid });
    console.log(`${solver.padEnd(7)} ${grid.padEnd(10)} ${String(steps).padStart(5)}  ${r.ratio.toFixed(2).padStart(8)}  ${r.dof}  ${((performance.now() - t0) / 1000).toFixed(1)}`);
  }
}
