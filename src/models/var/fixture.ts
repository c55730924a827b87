// Fixture checkers for kinds `var_vqvae` and `var_teacher` (shared/fixtures/README.md): rebuild
// the model from config.json, load its weights from BOTH weights.safetensors and weights.pt
// (strict, and check the two agree), recompute every output present in io.safetensors (names
// derived from the config: `…_s{k}` for scale k of patch_nums) and report one row per output.
// A tensor in io.safetensors that is neither a known input nor checked fails as "unchecked".
//
// Tolerances (fixture README): integers exact; floats max|a − e| ≤ 1e-4·max(1, max|e|) over
// finite entries with −∞ at the same positions; decoded images at the end of a sampling run
// 3e-4·max(1, max|e|).
//
// Letters: B batch, SN scales, pn side of scale k.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadSafetensors } from '../../io/safetensors.js';
import * as T from '../../tensor/index.js';
import { varConfigFromJson, vqvaeConfigFromJson } from './config.js';
import { argmaxRows, generate, type ScaleStep } from './generate.js';
import { loadVar, loadVqvae } from './load.js';
import type { VAR } from './var.js';
import type { VQVAE } from './vqvae.js';

export interface FixtureRow {
  readonly name: string;
  readonly maxAbsErr: number;
  readonly tol: number;
  readonly pass: boolean;
  /** Why a row failed beyond its numbers (shape mismatch, −∞ positions, unchecked tensor). */
  readonly note?: string;
}

type Json = Readonly<Record<string, unknown>>;
type Values = T.Tensor | Float32Array | Int32Array | readonly number[];

function readJson(path: string): Json {
  const v: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new Error(`${path}: expected a JSON object`);
  }
  return v as Json;
}

/** Compares values with the expected tensor under the fixture tolerance rule. */
export function compareRow(
  name: string,
  actual: Values,
  expected: T.Tensor,
  relTol = 1e-4,
): FixtureRow {
  const a = actual instanceof T.Tensor ? actual.data : actual;
  const e = expected.data;
  if (
    actual instanceof T.Tensor &&
    actual.size === expected.size &&
    !T.sameShape(actual.shape, expected.shape)
  ) {
    if (
      actual.shape.filter((d) => d !== 1).join() !== expected.shape.filter((d) => d !== 1).join()
    ) {
      return {
        name,
        maxAbsErr: Infinity,
        tol: 0,
        pass: false,
        note: `shape [${actual.shape.join(', ')}] vs expected [${expected.shape.join(', ')}]`,
      };
    }
  }
  if (a.length !== e.length) {
    return {
      name,
      maxAbsErr: Infinity,
      tol: 0,
      pass: false,
      note: `${a.length} values vs ${e.length} expected ([${expected.shape.join(', ')}])`,
    };
  }
  if (expected.dtype === 'int32') {
    let err = 0;
    for (let i = 0; i < e.length; i++)
      err = Math.max(err, Math.abs((a[i] as number) - (e[i] as number)));
    return { name, maxAbsErr: err, tol: 0, pass: err === 0 };
  }
  let scale = 0;
  for (const v of e) if (Number.isFinite(v)) scale = Math.max(scale, Math.abs(v));
  const tol = relTol * Math.max(1, scale);
  let err = 0;
  let infMismatch = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i] as number;
    const y = e[i] as number;
    if (!Number.isFinite(y)) {
      if (x !== y) infMismatch++;
      continue;
    }
    const d = Math.abs(x - y);
    err = Number.isNaN(d) ? Infinity : Math.max(err, d);
  }
  const pass = err <= tol && infMismatch === 0;
  return infMismatch > 0
    ? { name, maxAbsErr: err, tol, pass, note: `${infMismatch} non-finite entries differ` }
    : { name, maxAbsErr: err, tol, pass };
}

/** Collects rows for the outputs present in io; remembers which names were used. */
class Checker {
  readonly rows: FixtureRow[] = [];
  private readonly used = new Set<string>();
  constructor(
    readonly io: ReadonlyMap<string, T.Tensor>,
    readonly dir: string,
  ) {}

  has(name: string): boolean {
    return this.io.has(name);
  }

  input(name: string): T.Tensor {
    const t = this.io.get(name);
    if (!t)
      throw new Error(
        `${this.dir}/io.safetensors: input '${name}' is missing; the fixture is incomplete`,
      );
    this.used.add(name);
    return t;
  }

  /** Compares when present; `compute` runs only then. */
  check(name: string, compute: () => Values, relTol = 1e-4): void {
    const e = this.io.get(name);
    if (!e) return;
    this.used.add(name);
    this.rows.push(compareRow(name, compute(), e, relTol));
  }

  row(r: FixtureRow): void {
    this.rows.push(r);
  }

  /** Fails every tensor of io that nothing read. */
  finish(): FixtureRow[] {
    for (const name of this.io.keys()) {
      if (!this.used.has(name)) {
        this.rows.push({
          name,
          maxAbsErr: Infinity,
          tol: 0,
          pass: false,
          note: 'unchecked: no rule computes this tensor',
        });
      }
    }
    return this.rows;
  }
}

/** Row comparing the tensors of weights.pt with those of weights.safetensors (exactly). */
function sameWeightsRow(a: VAR | VQVAE, b: VAR | VQVAE): FixtureRow {
  const sa = a.stateDict();
  let err = 0;
  for (const [k, t] of b.stateDict()) {
    const u = sa.get(k);
    if (!u || u.size !== t.size)
      return {
        name: 'weights.pt = weights.safetensors',
        maxAbsErr: Infinity,
        tol: 0,
        pass: false,
        note: `tensor ${k} differs in shape`,
      };
    for (let i = 0; i < t.size; i++) {
      const x = t.data[i] as number;
      const y = u.data[i] as number;
      if (x !== y && !(Number.isNaN(x) && Number.isNaN(y))) err = Math.max(err, Math.abs(x - y));
    }
  }
  return { name: 'weights.pt = weights.safetensors', maxAbsErr: err, tol: 0, pass: err === 0 };
}

/** Both weight files of a fixture folder, strictly loaded, plus the row saying they agree. */
function loadBoth<M extends VAR | VQVAE>(
  dir: string,
  loader: (path: string) => M,
): { model: M; row: FixtureRow } {
  const st = loader(join(dir, 'weights.safetensors'));
  const pt = loader(join(dir, 'weights.pt'));
  return { model: pt, row: sameWeightsRow(pt, st) };
}

function intList(t: T.Tensor): Int32Array {
  if (t.dtype !== 'int32') throw new Error(`expected an integer tensor, got ${t.dtype}`);
  return t.data as Int32Array;
}

/** Checks a `var_vqvae` fixture folder. */
export function checkVarVqvaeFixture(dir: string): FixtureRow[] {
  const cfg = vqvaeConfigFromJson(readJson(join(dir, 'config.json')));
  const { model: vae, row } = loadBoth(dir, (p) => loadVqvae(p, cfg).model);
  const c = new Checker(loadSafetensors(join(dir, 'io.safetensors')), dir);
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
function to01(x: T.Tensor): Float32Array {
  const out = new Float32Array(x.size);
  for (let i = 0; i < out.length; i++)
    out[i] = Math.fround(Math.fround((x.data[i] as number) + 1) * 0.5);
  return out;
}

/** Checks a `var_teacher` fixture folder (its VQVAE comes from config.json's `vae` folder). */
export function checkVarTeacherFixture(dir: string): FixtureRow[] {
  const json = readJson(join(dir, 'config.json'));
  const cfg = varConfigFromJson(json);
  const vaeRel = json['vae'];
  if (typeof vaeRel !== 'string')
    throw new Error(`${dir}/config.json: 'vae' must name the VQVAE fixture folder`);
  const vaeDir = resolve(dir, vaeRel);
  const vae = loadVqvae(
    join(vaeDir, 'weights.safetensors'),
    vqvaeConfigFromJson(readJson(join(vaeDir, 'config.json'))),
  ).model;
  const { model, row } = loadBoth(dir, (p) => loadVar(p, cfg).model);
  const c = new Checker(loadSafetensors(join(dir, 'io.safetensors')), dir);
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

/** One line per row, for CLIs and test failure messages. */
export function formatRows(rows: readonly FixtureRow[]): string {
  const w = Math.max(...rows.map((r) => r.name.length), 4);
  return rows
    .map(
      (r) =>
        `${r.pass ? 'ok  ' : 'FAIL'} ${r.name.padEnd(w)}  max|err| ${r.maxAbsErr.toExponential(2)}  tol ${r.tol.toExponential(2)}${r.note ? `  (${r.note})` : ''}`,
    )
    .join('\n');
}
