// TrainConfig: every setting of a DD training run, typed, validated once, with its defaults
// printed at the start of a run (describeConfig). A run folder's checkpoints record the resolved
// config; `--resume` refuses a config whose training-relevant settings differ.
//
// Objective (default): for every sample of a batch a timestep t is drawn from `timesteps`; the
// student sees the first n(t) tokens (LlamaGen: t positions, VAR: the first t scales) as their
// target codebook vectors and the rest as their original noise, and is supervised on every
// predicted position j ≥ n(t) with ceWeight · cross-entropy(logits_j, target index) +
// mseWeight · ‖conti_j − codebook[target]‖² / d (means over predicted positions). split_t is a
// sampling-time choice (validation reports agreement at `splitT`).
//
// Optional perceptual term (`lpips`): every `every`-th step adds weight · mean LPIPS-VGG between
// the decoded student latent (data tokens as given, every predicted position from the continuous
// head) and the decoded target latent; the VQ decoder is frozen (see trainer.ts).

export type Family = 'llamagen' | 'var';
export type LrScheduleKind = 'cosine' | 'constant';

/** Where the CLI finds the teacher (the library takes built models instead). */
export type TeacherSpec =
  | { readonly gpt: string; readonly vq: string; readonly preset: string }
  | { readonly var: string; readonly vae: string; readonly depth: number }
  | { readonly fixture: string };

/** The optional LPIPS perceptual loss on decoded images. */
export interface LpipsSpec {
  /** The lpips package's weights/v0.1/vgg.pth (lin0..lin4), or a combined state dict. */
  readonly weights: string;
  /** torchvision's vgg16 weights (features.*), when `weights` holds only the lin layers. */
  readonly vgg: string | null;
  /** Multiplier of the LPIPS term (default 1). */
  readonly weight: number;
  /** Applied on every k-th step (default 1: every step). */
  readonly every: number;
}

export interface TrainConfig {
  /** 'llamagen' or 'var': which student is trained. */
  readonly family: Family;
  /** The datagen dataset folder (index.json or complete shard manifests). */
  readonly dataset: string;
  /** The run folder: checkpoints, metrics.jsonl, config.json. */
  readonly out: string;
  /** The teacher (CLI only; null when the library is handed built models). */
  readonly teacher: TeacherSpec | null;
  /** Seed of the data order (epoch e = permutation from Rng(seed, e)), timestep draws and the
   *  student's fresh parameters. */
  readonly seed: number;
  /** Optimizer steps of the whole run. */
  readonly steps: number;
  readonly batchSize: number;
  /** The last valSamples samples of the dataset are held out for validation. */
  readonly valSamples: number;
  /** Timesteps drawn (uniformly, per sample); null = [0, mid] (LlamaGen mid = round(80·L/256),
   *  the published t1; VAR mid = ⌊SN/2⌋, 5 of 10 scales as published for d16). */
  readonly timesteps: readonly number[] | null;
  readonly ceWeight: number;
  readonly mseWeight: number;
  readonly lr: number;
  readonly minLr: number;
  readonly schedule: LrScheduleKind;
  readonly warmupSteps: number;
  readonly weightDecay: number;
  readonly betas: readonly [number, number];
  readonly eps: number;
  /** Global L2 gradient-norm clip (0 = off). */
  readonly gradClip: number;
  readonly emaDecay: number;
  readonly emaWarmup: boolean;
  /** Validate and sample with the EMA weights (else the raw weights). */
  readonly evalWithEma: boolean;
  /** split_t for validation sampling; null = every position from the logits head. */
  readonly splitT: number | null;
  readonly checkpointEvery: number;
  /** Checkpoints kept on disk (older ones are deleted after a newer one has landed). */
  readonly keepCheckpoints: number;
  readonly validateEvery: number;
  /** Metrics line every logEvery steps (the last step is always logged). */
  readonly logEvery: number;
  /** Dataset chunks kept in memory (random access over the permutation). */
  readonly chunkCache: number;
  /** Perceptual loss on decoded images; null = off. */
  readonly lpips: LpipsSpec | null;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'family' | 'dataset' | 'out'> = Object.freeze({
  teacher: null,
  seed: 0,
  steps: 10000,
  batchSize: 8,
  valSamples: 64,
  timesteps: null,
  ceWeight: 1,
  mseWeight: 1,
  lr: 1e-4,
  minLr: 1e-5,
  schedule: 'cosine',
  warmupSteps: 500,
  weightDecay: 0.05,
  betas: Object.freeze([0.9, 0.95]) as readonly [number, number],
  eps: 1e-8,
  gradClip: 1,
  emaDecay: 0.9999,
  emaWarmup: true,
  evalWithEma: true,
  splitT: null,
  checkpointEvery: 1000,
  keepCheckpoints: 2,
  validateEvery: 1000,
  logEvery: 10,
  chunkCache: 32,
  lpips: null,
});

const KEYS: readonly (keyof TrainConfig)[] = [
  'family',
  'dataset',
  'out',
  ...(Object.keys(TRAIN_DEFAULTS) as (keyof TrainConfig)[]),
];

/** Settings that may change between a checkpoint and its resumption (bookkeeping only). */
export const RESUMABLE_CHANGES: readonly (keyof TrainConfig)[] = [
  'out',
  'dataset',
  'teacher',
  'checkpointEvery',
  'keepCheckpoints',
  'validateEvery',
  'logEvery',
  'chunkCache',
  'steps',
];

/** Validates a JSON object (a config file) and fills in every default. Lists every problem at
 *  once: unknown keys, wrong types, out-of-range values. */
export function parseTrainConfig(json: unknown, where = 'train config'): TrainConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${where}: expected a JSON object of settings, got ${JSON.stringify(json)}`);
  const o = json as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(o))
    if (!(KEYS as readonly string[]).includes(k))
      problems.push(`unknown key '${k}' (valid keys: ${KEYS.join(', ')})`);
  const d = TRAIN_DEFAULTS;
  const str = (k: keyof TrainConfig, def?: string): string => {
    const v = o[k] ?? def;
    if (typeof v !== 'string' || v === '') {
      problems.push(
        `'${k}' must be a non-empty string${def === undefined ? ' (required)' : ''}, got ${JSON.stringify(v)}`,
      );
      return '';
    }
    return v;
  };
  const num = (
    k: keyof TrainConfig,
    def: number,
    ok: (v: number) => boolean,
    what: string,
  ): number => {
    const v = o[k] ?? def;
    if (typeof v !== 'number' || !ok(v)) {
      problems.push(`'${k}' must be ${what}, got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const bool = (k: keyof TrainConfig, def: boolean): boolean => {
    const v = o[k] ?? def;
    if (typeof v !== 'boolean') {
      problems.push(`'${k}' must be true or false, got ${JSON.stringify(v)}`);
      return def;
    }
    return v;
  };
  const int = (v: number) => Number.isSafeInteger(v);
  const posInt = (v: number) => int(v) && v >= 1;
  const nonNeg = (v: number) => Number.isFinite(v) && v >= 0;
  const family = str('family');
  if (family !== '' && family !== 'llamagen' && family !== 'var')
    problems.push(`'family' must be 'llamagen' or 'var', got ${JSON.stringify(family)}`);
  const schedule = o.schedule ?? d.schedule;
  if (schedule !== 'cosine' && schedule !== 'constant')
    problems.push(`'schedule' must be 'cosine' or 'constant', got ${JSON.stringify(schedule)}`);
  let timesteps: number[] | null = null;
  if (o.timesteps !== undefined && o.timesteps !== null) {
    const t = o.timesteps;
    if (
      !Array.isArray(t) ||
      t.length === 0 ||
      !t.every((x): x is number => typeof x === 'number' && int(x) && x >= 0)
    )
      problems.push(
        `'timesteps' must be a non-empty list of integers ≥ 0 (e.g. [0, 80]) or null, got ${JSON.stringify(t)}`,
      );
    else timesteps = [...t];
  }
  let betas: readonly [number, number] = d.betas;
  if (o.betas !== undefined) {
    const b = o.betas;
    if (
      !Array.isArray(b) ||
      b.length !== 2 ||
      !b.every((x) => typeof x === 'number' && x >= 0 && x < 1)
    )
      problems.push(`'betas' must be two numbers in [0, 1), got ${JSON.stringify(b)}`);
    else betas = [b[0] as number, b[1] as number];
  }
  let splitT: number | null = null;
  if (o.splitT !== undefined && o.splitT !== null)
    splitT = num('splitT', 0, (v) => int(v) && v >= 0, 'an integer ≥ 0 or null');
  const cfg: TrainConfig = {
    family: family === 'var' ? 'var' : 'llamagen',
    dataset: str('dataset'),
    out: str('out'),
    teacher: parseTeacher(o.teacher, problems),
    seed: num('seed', d.seed, (v) => int(v) && v >= 0, 'an integer ≥ 0'),
    steps: num('steps', d.steps, posInt, 'a positive integer'),
    batchSize: num('batchSize', d.batchSize, posInt, 'a positive integer'),
    valSamples: num('valSamples', d.valSamples, (v) => int(v) && v >= 0, 'an integer ≥ 0'),
    timesteps,
    ceWeight: num('ceWeight', d.ceWeight, nonNeg, 'a number ≥ 0'),
    mseWeight: num('mseWeight', d.mseWeight, nonNeg, 'a number ≥ 0'),
    lr: num('lr', d.lr, (v) => Number.isFinite(v) && v > 0, 'a positive number'),
    minLr: num('minLr', d.minLr, nonNeg, 'a number ≥ 0'),
    schedule: schedule === 'constant' ? 'constant' : 'cosine',
    warmupSteps: num('warmupSteps', d.warmupSteps, (v) => int(v) && v >= 0, 'an integer ≥ 0'),
    weightDecay: num('weightDecay', d.weightDecay, nonNeg, 'a number ≥ 0'),
    betas,
    eps: num('eps', d.eps, nonNeg, 'a number ≥ 0'),
    gradClip: num('gradClip', d.gradClip, nonNeg, 'a number ≥ 0 (0 = off)'),
    emaDecay: num('emaDecay', d.emaDecay, (v) => v >= 0 && v <= 1, 'a number in [0, 1]'),
    emaWarmup: bool('emaWarmup', d.emaWarmup),
    evalWithEma: bool('evalWithEma', d.evalWithEma),
    splitT,
    checkpointEvery: num('checkpointEvery', d.checkpointEvery, posInt, 'a positive integer'),
    keepCheckpoints: num('keepCheckpoints', d.keepCheckpoints, posInt, 'a positive integer'),
    validateEvery: num('validateEvery', d.validateEvery, posInt, 'a positive integer'),
    logEvery: num('logEvery', d.logEvery, posInt, 'a positive integer'),
    chunkCache: num('chunkCache', d.chunkCache, posInt, 'a positive integer'),
    lpips: parseLpips(o.lpips, problems),
  };
  if (cfg.ceWeight === 0 && cfg.mseWeight === 0)
    problems.push("'ceWeight' and 'mseWeight' are both 0: nothing would be trained");
  if (cfg.minLr > cfg.lr) problems.push(`'minLr' ${cfg.minLr} exceeds 'lr' ${cfg.lr}`);
  if (cfg.schedule === 'cosine' && cfg.warmupSteps > cfg.steps)
    problems.push(`'warmupSteps' ${cfg.warmupSteps} exceeds 'steps' ${cfg.steps}`);
  if (problems.length > 0)
    throw new Error(
      `${where}: ${problems.length} problem(s):\n  ${problems.join('\n  ')}\nHINT: fix these keys; every key and its default is listed by ddar train --help`,
    );
  return Object.freeze(cfg);
}

function parseTeacher(v: unknown, problems: string[]): TeacherSpec | null {
  if (v === undefined || v === null) return null;
  const bad = () =>
    problems.push(
      `'teacher' must be {"gpt": FILE, "vq": FILE, "preset": "GPT-B"}, {"var": FILE, "vae": FILE, "depth": 16} or {"fixture": DIR}, got ${JSON.stringify(v)}`,
    );
  if (typeof v !== 'object' || Array.isArray(v)) {
    bad();
    return null;
  }
  const o = v as Record<string, unknown>;
  const s = (k: string) => typeof o[k] === 'string' && o[k] !== '';
  if (s('fixture') && Object.keys(o).length === 1) return { fixture: o.fixture as string };
  if (s('gpt') && s('vq')) {
    const preset = o.preset ?? 'GPT-B';
    if (typeof preset === 'string') return { gpt: o.gpt as string, vq: o.vq as string, preset };
  }
  if (s('var') && s('vae')) {
    const depth = o.depth ?? 16;
    if (typeof depth === 'number' && Number.isInteger(depth))
      return { var: o.var as string, vae: o.vae as string, depth };
  }
  bad();
  return null;
}

function parseLpips(v: unknown, problems: string[]): LpipsSpec | null {
  if (v === undefined || v === null) return null;
  const shape = `{"weights": FILE, "vgg": FILE, "weight": 1, "every": 1} (vgg, weight, every optional)`;
  if (typeof v !== 'object' || Array.isArray(v)) {
    problems.push(`'lpips' must be ${shape} or null, got ${JSON.stringify(v)}`);
    return null;
  }
  const o = v as Record<string, unknown>;
  const n0 = problems.length;
  for (const k of Object.keys(o))
    if (!['weights', 'vgg', 'weight', 'every'].includes(k))
      problems.push(`unknown key 'lpips.${k}' (valid: weights, vgg, weight, every)`);
  const file = (k: string, required: boolean): string | null => {
    const f = o[k] ?? null;
    if (f === null && !required) return null;
    if (typeof f !== 'string' || f === '') {
      problems.push(
        `'lpips.${k}' must be a file path${required ? ' (required)' : ' or null'}, got ${JSON.stringify(f)}`,
      );
      return null;
    }
    return f;
  };
  const weights = file('weights', true);
  const vgg = file('vgg', false);
  const weight = o.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0)
    problems.push(`'lpips.weight' must be a positive number, got ${JSON.stringify(weight)}`);
  const every = o.every ?? 1;
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1)
    problems.push(`'lpips.every' must be a positive integer, got ${JSON.stringify(every)}`);
  if (problems.length > n0) return null;
  return Object.freeze({
    weights: weights as string,
    vgg,
    weight: weight as number,
    every: every as number,
  });
}

/** The resolved config, one `key = value` line per setting (defaults marked), for the start of
 *  a run. */
export function describeConfig(
  cfg: TrainConfig,
  given: Readonly<Record<string, unknown>> = {},
): string {
  return KEYS.map(
    (k) => `  ${k.padEnd(16)} = ${JSON.stringify(cfg[k])}${k in given ? '' : '  (default)'}`,
  ).join('\n');
}

/** Throws, naming every differing key, when `next` changes a training-relevant setting of
 *  `prev` (a resumed run must train the same way). */
export function checkResumable(prev: TrainConfig, next: TrainConfig): void {
  const diff = KEYS.filter(
    (k) => !RESUMABLE_CHANGES.includes(k) && JSON.stringify(prev[k]) !== JSON.stringify(next[k]),
  );
  if (diff.length > 0)
    throw new Error(
      `--resume: the config differs from the checkpoint's in ${diff.map((k) => `'${k}' (${JSON.stringify(prev[k])} → ${JSON.stringify(next[k])})`).join(', ')}; HINT: only ${RESUMABLE_CHANGES.join(', ')} may change on resume — start a new run folder to train differently`,
    );
}
