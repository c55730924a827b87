// Parity checker for the shared fixture of kind `llamagen_dd`: rebuild the student from
// config.json (any size, head count, timesteps, split_t), load weights.pt ({"ema": …}) and
// weights.safetensors (both, every key required), then recompute exactly the outputs present in
// io.safetensors and compare them with the official PyTorch results. The tensor names follow
// from the configuration: t{t}_… for every t of `timesteps`, t{t}_final_x_split{split_t}, and
// run_… for the recorded sampling run, which is replayed through the VQ decoder of the sibling
// fixture ../llamagen_vq. Tolerance: the rule of models/fixture-report.ts with 1e-4 everywhere
// (the decoded images too, although the README allows 3e-4 there on other BLAS).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonObject } from '../../../io/json.js';
import { loadSafetensors } from '../../../io/safetensors.js';
import * as T from '../../../tensor/index.js';
import type { Tensor } from '../../../tensor/index.js';
import { vqConfigFromJson } from '../../../models/llamagen/config.js';
import { VQModel } from '../../../models/llamagen/vq.js';
import { loadVqWeights, readStateDict } from '../../../models/llamagen/load.js';
import {
  REL_TOL,
  compareFloat,
  compareStateDicts,
  compareInt,
  type CheckLine,
  type FixtureReport,
} from '../../../models/fixture-report.js';
import { ddConfigFromJson } from './config.js';
import { DDTransformer } from './student.js';
import { loadDDWeights, readDDStateDict } from './load.js';
import { finalPredict, getFinalX, nearestCodebook, perturbData, toLatent } from './predict.js';
import { ddStep, sampleFewStep, type StepTrace } from './sample.js';

type Io = Map<string, Tensor>;

function ints(what: string, v: unknown): number[] {
  if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x)))
    throw new Error(`config.json: ${what} must be a list of integers, got ${JSON.stringify(v)}`);
  return v.map(Number);
}

function int(what: string, v: unknown): number {
  if (!Number.isInteger(v))
    throw new Error(`config.json: ${what} must be an integer, got ${JSON.stringify(v)}`);
  return Number(v);
}

function need(io: Io, name: string, why: string): Tensor {
  const t = io.get(name);
  if (!t) throw new Error(`io.safetensors has no '${name}' (needed for ${why})`);
  return t;
}

function f32(t: Tensor): Float32Array {
  if (!(t.data instanceof Float32Array))
    throw new Error(`expected float32, got ${t.dtype} [${t.shape.join(', ')}]`);
  return t.data;
}

/** Both weight files loaded into students, with a check that they hold the same tensors. */
function bothStudents(
  dir: string,
  build: () => DDTransformer,
  lines: CheckLine[],
): [DDTransformer, DDTransformer] {
  const pt = readDDStateDict(join(dir, 'weights.pt'));
  const st = readDDStateDict(join(dir, 'weights.safetensors'));
  lines.push(
    compareStateDicts(`weights.pt[${pt.key ?? 'top level'}] == weights.safetensors`, st.sd, pt.sd),
  );
  const a = build();
  const ra = loadDDWeights(a, pt.sd);
  const b = build();
  const rb = loadDDWeights(b, st.sd);
  const extra = [...ra.unexpected, ...rb.unexpected];
  lines.push({
    name: 'state dict: every key present, none extra',
    maxErr: extra.length,
    tol: 0,
    pass: extra.length === 0,
    ...(extra.length > 0 ? { note: `unexpected: ${extra.slice(0, 5).join(', ')}` } : {}),
  });
  return [a, b];
}

/** The VQ of the sibling fixture (../llamagen_vq), or null when it is absent. */
function siblingVq(dir: string): VQModel | null {
  const vqDir = join(dir, '..', 'llamagen_vq');
  if (!existsSync(join(vqDir, 'config.json'))) return null;
  const vq = new VQModel(vqConfigFromJson(readJsonObject(join(vqDir, 'config.json'))));
  loadVqWeights(vq, readStateDict(join(vqDir, 'weights.safetensors')));
  return vq;
}

export function checkLlamagenDDFixture(dir: string): FixtureReport {
  const cfgJson = readJsonObject(join(dir, 'config.json'));
  const config = ddConfigFromJson(cfgJson);
  const io: Io = loadSafetensors(join(dir, 'io.safetensors'));
  const lines: CheckLine[] = [];
  const known = new Set<string>();
  const has = (n: string) => io.has(n);
  const exp = (n: string): Tensor => {
    known.add(n);
    return io.get(n) as Tensor;
  };
  const input = (n: string, why: string): Tensor => {
    known.add(n);
    return need(io, n, why);
  };
  const cmp = (n: string, t: Tensor, tol = REL_TOL, label = n) => {
    if (has(n)) lines.push(compareFloat(label, t, exp(n), tol));
  };
  const cmpInt = (n: string, v: ArrayLike<number>, label = n) => {
    if (has(n)) lines.push(compareInt(label, v, exp(n)));
  };
  const [model, modelSt] = bothStudents(dir, () => new DDTransformer(config), lines);
  const { block_size: L, codebook_dim: c, vocab_size: V } = config;
  const codebook = input('codebook', 'the codebook');
  const cb = f32(codebook);
  const vq = siblingVq(dir);
  if (vq)
    lines.push(
      compareFloat(
        'codebook == l2norm(llamagen_vq codebook)',
        { data: vq.quantize.codebook().data, shape: [V, c] },
        codebook,
      ),
    );

  T.noGrad(() => {
    // ---- single forward passes at every configured timestep ----
    const labels = () => input('cond_idx', 'the class labels');
    // Timesteps and split_t from config.json; names present in io.safetensors that the
    // config does not list (another t, another split) are checked too.
    const names = [...io.keys()];
    const tSet = new Set<number>(
      cfgJson.timesteps !== undefined ? ints('timesteps', cfgJson.timesteps) : [],
    );
    for (const n of names) {
      const m = /^t(\d+)_/.exec(n);
      if (m) tSet.add(Number(m[1]));
    }
    const cfgSplitT = cfgJson.split_t !== undefined ? int('split_t', cfgJson.split_t) : null;
    for (const t of [...tSet].sort((a, b) => a - b)) {
      const p = `t${t}_`;
      if (![...io.keys()].some((k) => k.startsWith(p))) continue;
      const tsT = input(`${p}timestep`, `t=${t}`);
      const ts = Array.from(tsT.data);
      if (ts.some((v) => v !== t))
        lines.push({
          name: `${p}timestep`,
          maxErr: Infinity,
          tol: 0,
          pass: false,
          note: `holds ${ts.join(', ')}, config says ${t}`,
        });
      const x = input(`${p}x_BLC`, `t=${t}`);
      const B = x.shape[0] as number;
      const xd = f32(x);
      if (has(`${p}data_idx`)) {
        // Positions < t must be the codebook rows named by data_idx (perturb_data's data part).
        const di = input(`${p}data_idx`, 'the data rows').data as Int32Array;
        const data = new Float32Array(B * L * c);
        for (let r = 0; r < B * L; r++)
          data.set(cb.subarray((di[r] as number) * c, ((di[r] as number) + 1) * c), r * c);
        const rebuilt = perturbData(data, xd, ts, B, L, c);
        lines.push(
          compareFloat(
            `${p}x_BLC == perturb_data(codebook[data_idx])`,
            { data: rebuilt, shape: x.shape },
            x,
            0,
          ),
        );
      }
      const gt = nearestCodebook(xd, cb, c);
      cmpInt(`${p}gt_idx`, gt);
      if (has(`${p}tokens`) || has(`${p}logits`)) {
        const out = model.forward(x, labels(), ts);
        cmp(`${p}tokens`, out.tokens);
        cmp(`${p}logits`, out.logits);
        const o2 = modelSt.forward(x, labels(), ts);
        if (has(`${p}logits`))
          lines.push(
            compareFloat(
              `${p}logits (weights.safetensors)`,
              o2.logits,
              io.get(`${p}logits`) as Tensor,
            ),
          );
      }
      const fp = finalPredict(model, x, labels(), ts, gt);
      cmp(`${p}fp_tokens`, fp.tokens);
      cmp(`${p}fp_logits`, fp.logits);
      const splits = new Set<number>(cfgSplitT !== null ? [cfgSplitT] : []);
      for (const n of names) {
        const m = new RegExp(`^${p}final_x_split(\\d+)$`).exec(n);
        if (m) splits.add(Number(m[1]));
      }
      for (const splitT of splits) {
        const fx = `${p}final_x_split${splitT}`;
        if (!has(fx)) continue;
        cmp(fx, getFinalX(fp, splitT, codebook));
        // The sampler's fused step gives the same x (x_t = x_BLC when the noise is x_BLC).
        const fast = ddStep(model, xd, xd, labels(), t, splitT, codebook);
        lines.push(
          compareFloat(`${fx} (sampler step)`, { data: fast.x, shape: [B, L, c] }, exp(fx)),
        );
      }
    }

    // ---- the recorded sampling run ----
    if (has('run_noise')) {
      const noise = input('run_noise', 'the sampling run');
      const runLabels = input('run_cond_idx', 'the sampling run');
      const tList = has('run_t_list') ? Array.from(input('run_t_list', '').data) : null;
      const split = has('run_split_t') ? (input('run_split_t', '').data[0] as number) : null;
      const sampling = cfgJson.sampling;
      const cfgRun =
        typeof sampling === 'object' && sampling !== null
          ? (sampling as Record<string, unknown>)
          : {};
      const cfgTList = cfgRun.t_list !== undefined ? ints('sampling.t_list', cfgRun.t_list) : null;
      const cfgSplit =
        cfgRun.split_t !== undefined ? int('sampling.split_t', cfgRun.split_t) : null;
      const runT = tList ?? cfgTList;
      const runSplit = split ?? cfgSplit;
      if (runT === null || runSplit === null)
        throw new Error(
          'the sampling run needs its t_list and split_t (io run_t_list / run_split_t or config.json sampling)',
        );
      lines.push({
        name: 'run t_list/split_t == config.json sampling',
        maxErr: 0,
        tol: 0,
        pass:
          (cfgTList === null || runT.join(',') === cfgTList.join(',')) &&
          (cfgSplit === null || runSplit === cfgSplit),
        note: `t_list [${runT.join(', ')}], split_t ${runSplit}`,
      });
      const B = noise.shape[0] as number;
      const nd = f32(noise);
      // Reference replay: final_predict + get_final_x_BLC, every intermediate compared.
      let x = nd;
      runT.forEach((t, s) => {
        const p = `run_step${s}_`;
        const xT = perturbData(x, nd, t, B, L, c);
        cmp(`${p}x_t`, new T.Tensor(xT, [B, L, c]));
        const gt = nearestCodebook(xT, cb, c);
        cmpInt(`${p}gt_idx`, gt);
        const fp = finalPredict(model, new T.Tensor(xT, [B, L, c]), runLabels, t, gt);
        cmp(`${p}fp_tokens`, fp.tokens);
        cmp(`${p}fp_logits`, fp.logits);
        const nx = getFinalX(fp, runSplit, codebook);
        cmp(`${p}x`, nx);
        x = f32(nx);
      });
      // The fast sampler, compared step by step with the same records.
      const traces: StepTrace[] = [];
      const final = sampleFewStep(model, runLabels, {
        tList: runT,
        splitT: runSplit,
        noise: nd,
        codebook,
        onStep: (tr) => traces.push(tr),
      });
      for (const tr of traces) {
        const p = `run_step${tr.step}_`;
        if (has(`${p}x_t`))
          lines.push(
            compareFloat(`${p}x_t (sampler)`, { data: tr.xT, shape: [B, L, c] }, exp(`${p}x_t`)),
          );
        if (has(`${p}x`))
          lines.push(
            compareFloat(`${p}x (sampler)`, { data: tr.x, shape: [B, L, c] }, exp(`${p}x`)),
          );
      }
      const latent = toLatent(final);
      cmp('run_final_latent', latent);
      if (has('run_decoded') || has('run_samples01')) {
        if (!vq) {
          for (const n of ['run_decoded', 'run_samples01'].filter(has))
            lines.push({
              name: n,
              maxErr: Infinity,
              tol: 0,
              pass: false,
              note: 'the sibling fixture ../llamagen_vq (its decoder) is missing',
            });
          known.add('run_decoded').add('run_samples01');
        } else {
          const img = vq.decode(latent);
          cmp('run_decoded', img);
          cmp('run_samples01', T.div(T.add(img, 1), 2));
        }
      }
    }
  });
  for (const name of io.keys()) {
    if (!known.has(name))
      lines.push({
        name,
        maxErr: Infinity,
        tol: 0,
        pass: false,
        note: 'no checker for this output',
      });
  }
  return { kind: 'llamagen_dd', dir, lines };
}
