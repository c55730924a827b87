// Learning-rate schedules: pure functions of the (0-based) optimizer step, so a resumed run
// recomputes the lr from its step count.

export type LrSchedule = (step: number) => number;

export interface WarmupCosineOpts {
  readonly baseLr: number;
  readonly warmupSteps: number;
  /** Step at which the cosine reaches minLr; later steps stay at minLr. */
  readonly totalSteps: number;
  /** Default 0. */
  readonly minLr?: number;
}

function linearWarmup(lr: number, warmupSteps: number, step: number): number {
  return (lr * (step + 1)) / (warmupSteps + 1);
}

/** nanoGPT's get_lr: linear warm-up baseLr·(step + 1)/(warmupSteps + 1) for step < warmupSteps,
 *  then minLr + ½(1 + cos(π·r))·(baseLr − minLr) with r = (step − warmupSteps)/(totalSteps −
 *  warmupSteps), and minLr from totalSteps on. */
export function warmupCosine(opts: WarmupCosineOpts): LrSchedule {
  const { baseLr, warmupSteps, totalSteps } = opts;
  const minLr = opts.minLr ?? 0;
  if (!(warmupSteps >= 0) || !(totalSteps >= warmupSteps) || !(baseLr >= 0) || !(minLr >= 0)) {
    throw new Error(
      `warmupCosine: need 0 ≤ warmupSteps ≤ totalSteps and lr ≥ 0, got ${JSON.stringify(opts)}`,
    );
  }
  return (step) => {
    if (step < warmupSteps) return linearWarmup(baseLr, warmupSteps, step);
    if (step >= totalSteps) return minLr;
    const r = (step - warmupSteps) / (totalSteps - warmupSteps);
    return minLr + 0.5 * (1 + Math.cos(Math.PI * r)) * (baseLr - minLr);
  };
}

/** lr after a linear warm-up (as warmupCosine's) of warmupSteps steps (default none). */
export function constantLr(lr: number, warmupSteps = 0): LrSchedule {
  if (!(warmupSteps >= 0) || !(lr >= 0))
    throw new Error(`constantLr: need lr ≥ 0 and warmupSteps ≥ 0, got ${lr}, ${warmupSteps}`);
  return (step) => (step < warmupSteps ? linearWarmup(lr, warmupSteps, step) : lr);
}
