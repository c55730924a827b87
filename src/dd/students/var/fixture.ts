// Fixture checker for kind `var_dd` (shared/fixtures/README.md): rebuild the student from
// config.json (any size, head count, patch_nums, timesteps, split_t, seed), load its weights
// from BOTH weights.pt (the official {"trainer": {"ema_parameters": …}} wrapping) and
// weights.safetensors (strict; the two must agree; the stored mask/level buffers must equal the
// rule), use the VQVAE of the folder named by config `vae`, recompute every output present in
// io.safetensors — names derived from the config: `t{t}_…` for each timestep, `…_split{s}` for
// split_t, `run_step{k}_…` for entry k of the recorded t_list — and report one row per output.
// A tensor in io.safetensors that nothing reads fails as "unchecked". Extra rows check that the
// fused sampler path (ddStep / sampleVarDD) reproduces the official step-by-step outputs.
//
// Tolerances as models/var/fixture.ts (the rule of models/fixture-report.ts); the decoded image
// at the end of the sampling run 3e-4.
//
// Letters: B batch, L tokens, V codebook size, Cv codebook dim, t timestep.

import { join, resolve } from 'node:path';
import { readJsonObject } from '../../../io/json.js';
import { loadSafetensors } from '../../../io/safetensors.js';
import * as T from '../../../tensor/index.js';
import { vqvaeConfigFromJson } from '../../../models/var/config.js';
import { to01 } from '../../../models/var/fixture.js';
import {
  compareStateDicts,
  OutputChecker,
  type CheckLine,
} from '../../../models/fixture-report.js';
import { loadVqvae } from '../../../models/var/load.js';
import { noiseMask, varDDConfigFromJson, type VarDDConfig } from './config.js';
import { loadVarDDStateDict, readVarDDStateDict } from './load.js';
import { ddStep, finalPredict, getFinalSequence, perturb } from './predict.js';
import { sampleVarDD, tokensToFhat } from './sample.js';
import { VarDD } from './student.js';

type Json = Readonly<Record<string, unknown>>;

function intOf(o: Json, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new Error(`${where}: '${key}' must be an integer, got ${JSON.stringify(v)}`);
  }
  return v;
}

function intsOf(o: Json, key: string, where: string): number[] {
  const v = o[key];
  if (!Array.isArray(v) || !v.every((x): x is number => Number.isInteger(x))) {
    throw new Error(`${where}: '${key}' must be a list of integers, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Loads one weight file strictly; returns the model and rows about its buffers. */
function loadOne(cfg: VarDDConfig, path: string): { model: VarDD; row: CheckLine } {
  const { sd, key } = readVarDDStateDict(path);
  const model = new VarDD(cfg);
  const r = loadVarDDStateDict(model, sd, path, { strict: true, key });
  const bad = [
    ...r.rebuiltBuffers.map((n) => `${n} absent`),
    ...r.buffersDiffered.map((n) => `${n} differs`),
  ];
  return {
    model,
    row: {
      name: `${path.split('/').pop() ?? path}${key ? ` [${key}]` : ''}: buffers = the student rule`,
      maxErr: bad.length > 0 ? Infinity : 0,
      tol: 0,
      pass: bad.length === 0,
      ...(bad.length > 0 ? { note: bad.join(', ') } : {}),
    },
  };
}

function ints(t: T.Tensor): Int32Array {
  if (t.dtype !== 'int32') throw new Error(`expected an integer tensor, got ${t.dtype}`);
  return t.data as Int32Array;
}

/** Checks a `var_dd` fixture folder (its VQVAE comes from config.json's `vae` folder). */
export function checkVarDDFixture(dir: string): CheckLine[] {
  const where = `${dir}/config.json`;
  const json = readJsonObject(join(dir, 'config.json'));
  const cfg = varDDConfigFromJson(json);
  const vaeRel = json['vae'];
  if (typeof vaeRel !== 'string')
    throw new Error(`${where}: 'vae' must name the VQVAE fixture folder`);
  const vaeDir = resolve(dir, vaeRel);
  const vaeCfg = vqvaeConfigFromJson(readJsonObject(join(vaeDir, 'config.json')));
  const vae = loadVqvae(join(vaeDir, 'weights.safetensors'), vaeCfg).model;
  const st = loadOne(cfg, join(dir, 'weights.safetensors'));
  const pt = loadOne(cfg, join(dir, 'weights.pt'));
  const model = pt.model;
  const c = new OutputChecker(loadSafetensors(join(dir, 'io.safetensors')), dir);
  c.row(st.row);
  c.row(pt.row);
  c.row(
    compareStateDicts(
      'weights.pt = weights.safetensors',
      st.model.stateDict(),
      pt.model.stateDict(),
    ),
  );
  const cb = vae.quantize.embedding.weight; // [V, Cv]
  const s = model.sched;
  const { L } = model;
  return T.noGrad(() => {
    c.check('codebook', () => cb);
    c.check('accum_token_length', () => s.accum);
    c.check('noise_mask', () => noiseMask(s));
    const splitT = json['split_t'] === undefined ? null : intOf(json, 'split_t', where);
    const timesteps = json['timesteps'] === undefined ? [] : intsOf(json, 'timesteps', where);
    if (timesteps.length > 0) {
      const labels = ints(c.input('label_B'));
      const B = labels.length;
      for (const t of timesteps) {
        const p = `t${t}_`;
        c.check(`${p}t`, () => new Float32Array(B).fill(t));
        const dataIdx = ints(c.input(`${p}data_idx`));
        const x = c.input(`${p}x`);
        // The data part of x must be the codebook rows of data_idx; its noise part is an input.
        c.check(`${p}x`, () =>
          perturb(model, T.embedding(cb, new T.Tensor(dataIdx, [B, L])), t, x),
        );
        const out = model.forward(labels, x, t);
        c.check(`${p}x_BLCv`, () => out.conti);
        c.check(`${p}x_BLV`, () => out.logits);
        const fp = finalPredict(model, cb, labels, x, t);
        c.check(`${p}fp_conti`, () => fp.conti);
        c.check(`${p}fp_logits`, () => fp.logits);
        if (splitT !== null) {
          const name = `${p}final_seq_split${splitT}`;
          c.check(name, () => getFinalSequence(s, cb, fp.conti, fp.logits, splitT));
          const e = c.has(name) ? c.input(name) : null;
          if (e)
            c.extra(
              `${p}ddStep(split ${splitT}) = ${name}`,
              ddStep(model, cb, labels, x, t, splitT),
              e,
            );
        }
      }
    }
    const sampling = json['sampling'];
    if (c.has('run_noise')) {
      const labels = ints(c.input('run_label_B'));
      const noise = c.input('run_noise');
      const tList = [...ints(c.input('run_t_list'))];
      const split = ints(c.input('run_loss_split_t'))[0] as number;
      if (typeof sampling === 'object' && sampling !== null && !Array.isArray(sampling)) {
        const sj = sampling as Json;
        const want = intsOf(sj, 't_list', where);
        const ok =
          want.length === tList.length &&
          want.every((v, i) => v === tList[i]) &&
          intOf(sj, 'loss_split_t', where) === split;
        c.row({
          name: 'run_t_list / run_loss_split_t = config sampling',
          maxErr: ok ? 0 : Infinity,
          tol: 0,
          pass: ok,
        });
      }
      let x = noise;
      tList.forEach((t, k) => {
        const p = `run_step${k}_`;
        const xt = perturb(model, x, t, noise);
        c.check(`${p}x_t`, () => xt);
        const fp = finalPredict(model, cb, labels, xt, t);
        c.check(`${p}fp_conti`, () => fp.conti);
        c.check(`${p}fp_logits`, () => fp.logits);
        x = getFinalSequence(s, cb, fp.conti, fp.logits, split);
        c.check(`${p}x`, () => x);
      });
      const fhat = tokensToFhat(vae.quantize, x);
      c.check('run_final_fhat', () => fhat);
      c.check('run_img', () => to01(vae.fhatToImg(fhat)), 3e-4);
      const last = `run_step${tList.length - 1}_x`;
      const fast = sampleVarDD(model, vae.quantize, { labels, tList, splitT: split, noise });
      if (c.has(last)) c.extra(`sampleVarDD tokens = ${last}`, fast.tokens, c.input(last));
      if (c.has('run_img'))
        c.extra(
          'sampleVarDD image = run_img',
          to01(vae.fhatToImg(fast.fhat)),
          c.input('run_img'),
          3e-4,
        );
    }
    // Guard against silently checking nothing: every timestep of the config has its outputs.
    for (const t of timesteps) {
      if (!c.has(`t${t}_x_BLCv`)) {
        c.row({
          name: `t${t}_x_BLCv`,
          maxErr: Infinity,
          tol: 0,
          pass: false,
          note: `config lists timestep ${t} but io.safetensors has no t${t}_… outputs`,
        });
      }
    }
    return c.finish();
  });
}
