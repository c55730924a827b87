// Fixture checkers for kinds `var_vqvae` and `var_teacher` (shared/fixtures/README.md): rebuild
// the model from config.json, load its weights from BOTH weights.safetensors and weights.pt
// (strict, and check the two agree), recompute every output present in io.safetensors (names
// derived from the config: `…_s{k}` for scale k of patch_nums) and report one row per output.
// A tensor in io.safetensors that is neither a known input nor checked fails as "unchecked".
//
// Tolerances: the rule of ../fixture-report.ts (integers exact, floats 1e-4·max(1, max|e|));
// decoded images at the end of a sampling run 3e-4·max(1, max|e|) (fixture README).
//
// Letters: B batch, SN scales, pn side of scale k.

import { join, resolve } from 'node:path';
import { readJsonObject } from '../../io/json.js';
import { loadSafetensors } from '../../io/safetensors.js';
import * as T from '../../tensor/index.js';
import { varConfigFromJson, vqvaeConfigFromJson } from './config.js';
import { argmaxRows } from '../../sampling/argmax.js';
import { generate, type ScaleStep } from './generate.js';
import { loadVar, loadVqvae } from './load.js';
import type { VAR } from './var.js';
import type { VQVAE } from './vqvae.js';
import { compareStateDicts, OutputChecker, type CheckLine } from '../fixture-report.js';

/** Both weight files of a fixture folder, strictly loaded, plus the row saying they agree. */
function loadBoth<M extends VAR | VQVAE>(
  dir: string,
  loader: (path: string) => M,
): { model: M; row: CheckLine } {
  const st = loader(join(dir, 'weights.safetensors'));
  const pt = loader(join(dir, 'weights.pt'));
  return {
    model: pt,
    row: compareStateDicts('weights.pt = weights.safetensors', st.stateDict(), pt.stateDict()),
  };
}

function intList(t: T.Tensor): Int32Array {
  if (t.dtype !== 'int32') throw new Error(`expected an integer tensor, got ${t.dtype}`);
  return t.data as Int32Array;
}

/** Checks a `var_vqvae` fixture folder. */
export function checkVarVqvaeFixture(dir: string): CheckLine[] {
  const cfg = vqvaeConfigFromJson(readJsonObject(join(dir, 'config.json')));
  const { model: vae, row } = loadBoth(dir, (p) => loadVqvae(p, cfg).model);
  const c = new OutputChecker(loadSafetensors(join(dir, 'io.safetensors')), dir);
  c.row(row);
  const q = vae.quantize;
  const { SN, patchNums } = q.sched;
  const s = (k: number) => `_s${k}`;
  return T.noGrad(() => {
    c.check('codebook', () => q.embedding.weight);
    c.check('patch_nums', () => patchNums);
    c.check('phi_index_per_scale', () => patchNums.map((_, k) => q.phiIndexOf(k)));
    if (c.has('image')) {
      const img = c.input('image');
      const f = vae.encode(img);
      c.check('enc_f', () => f);
      const r = q.fToIdxBl(f);
      for (let k = 0; k < SN; k++) {
        c.check(`img_idx${s(k)}`, () => r.idx[k] as Int32Array);
        c.check(`img_fhat${s(k)}`, () => r.fhat[k] as T.Tensor);
      }
      c.check('img_recon', () => vae.fhatToImg(r.fhat[SN - 1] as T.Tensor));
    }
    if (c.has(`idx${s(0)}`)) {
      const idx = patchNums.map((_, k) => intList(c.input(`idx${s(k)}`)));
      const B = (idx[0] as Int32Array).length / (patchNums[0] as number) ** 2;
      c.check('var_input', () => q.idxBlToVarInput(idx, B));
      const fh = q.idxBlToFhat(idx, B);
      for (let k = 0; k < SN; k++) c.check(`fhat${s(k)}`, () => fh[k] as T.Tensor);
      c.check('img_from_idx', () => vae.idxBlToImg(idx, B));
      c.check('dec_raw', () => vae.decodeRaw(fh[SN - 1] as T.Tensor));
      let f = T.zeros((fh[0] as T.Tensor).shape);
      for (let k = 0; k < SN; k++) {
        const h = q.lookup(idx[k] as Int32Array, B, patchNums[k] as number);
        c.check(`ar_h${s(k)}`, () => h);
        const step = q.nextAutoregressiveInput(k, f, h);
        f = step.fhat;
        c.check(`ar_fhat${s(k)}`, () => step.fhat);
        c.check(`ar_next${s(k)}`, () => step.next);
      }
    }
    return c.finish();
  });
}

/** (x + 1)·0.5 in float32, as the official samplers return images. */
export function to01(x: T.Tensor): Float32Array {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.fround(Math.fround((x.data[i] as number) + 1) * 0.5);
  return out;
}

/** Checks a `var_teacher` fixture folder (its VQVAE comes from config.json's `vae` folder). */
export function checkVarTeacherFixture(dir: string): CheckLine[] {
  const json = readJsonObject(join(dir, 'config.json'));
  const cfg = varConfigFromJson(json);
  const vaeRel = json['vae'];
  if (typeof vaeRel !== 'string')
    throw new Error(`${dir}/config.json: 'vae' must name the VQVAE fixture folder`);
  const vaeDir = resolve(dir, vaeRel);
  const vae = loadVqvae(
    join(vaeDir, 'weights.safetensors'),
    vqvaeConfigFromJson(readJsonObject(join(vaeDir, 'config.json'))),
  ).model;
  const { model, row } = loadBoth(dir, (p) => loadVar(p, cfg).model);
  const c = new OutputChecker(loadSafetensors(join(dir, 'io.safetensors')), dir);
  c.row(row);
  const q = vae.quantize;
  const { patchNums } = model.sched;
  const s = (k: number) => `_s${k}`;
  const argmax = (l: Float32Array, rows: number, V: number) => argmaxRows(l, rows, V);
  return T.noGrad(() => {
    const labels = intList(c.input('label_B'));
    const B = labels.length;
    if (c.has(`tf_idx${s(0)}`)) {
      const idx = patchNums.map((_, k) => intList(c.input(`tf_idx${s(k)}`)));
      const x = q.idxBlToVarInput(idx, B);
      c.check('x_BLCv_wo_first_l', () => x);
      c.check('tf_logits', () => model.forward(labels, x));
    }
    const cfgScale = c.has('cfg') ? (c.input('cfg').data[0] as number) : Number(json['cfg'] ?? 1.5);
    if (c.has(`infer_idx${s(0)}`) || c.has('infer_img')) {
      const steps: ScaleStep[] = [];
      const res = generate(model, q, {
        labels,
        cfg: cfgScale,
        choose: argmax,
        onScale: (st) => steps.push(st),
      });
      for (const st of steps) {
        const k = st.k;
        c.check(`infer_raw_logits${s(k)}`, () => st.rawLogits);
        c.check(`infer_cfg_logits${s(k)}`, () => st.cfgLogits);
        c.check(`infer_idx${s(k)}`, () => st.idx);
        c.check(`infer_fhat${s(k)}`, () => st.fhat);
        if (st.next) c.check(`infer_next${s(k)}`, () => st.next as T.Tensor);
      }
      c.check('infer_img', () => to01(vae.fhatToImg(res.fhat)), 3e-4);
      c.check('infer_tf_logits', () => model.forward(labels, q.idxBlToVarInput(res.idx, B)));
    }
    if (c.has('inter_x_BLCv')) {
      const tokens = c.input('inter_x_BLCv');
      const startT = c.input('inter_start_t').data[0] as number;
      const endPoint = c.input('inter_end_point').data[0] as number;
      const steps: ScaleStep[] = [];
      const res = generate(model, q, {
        labels,
        cfg: cfgScale,
        choose: argmax,
        prefix: { tokens, startT },
        endPoint,
        onScale: (st) => steps.push(st),
      });
      for (const st of steps) {
        c.check(`inter_cfg_logits${s(st.k)}`, () => st.cfgLogits);
        c.check(`inter_idx${s(st.k)}`, () => st.idx);
      }
      c.check('inter_sequence', () => res.sequence);
      c.check('inter_img', () => to01(vae.fhatToImg(res.fhat)), 3e-4);
    }
    return c.finish();
  });
}
