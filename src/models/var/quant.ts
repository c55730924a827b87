// VAR's residual multi-scale quantizer (models/quant.py `VectorQuantizer2`): the codebook, the Φ
// refinement convs ("quant_resi") and which Φ each scale uses, image latent → per-scale indices,
// indices → cumulative f̂, one autoregressive step (f̂ update + next-scale map), and the
// teacher-forcing input idxBl_to_var_input. See shared/reference/var-dd.md §2.4–§2.6.
//
// Letters: B batch, Cv codebook dim, V codebook size, SN scales, pn side of scale k, HW side of
// f̂ (= the last pn), N = B·pn² token rows, K number of Φ convs.

import { Conv2d, Embedding } from '../../nn/layers.js';
import { Module, buffer } from '../../nn/module.js';
import * as T from '../../tensor/index.js';
import { scaleSchedule, type ScaleSchedule, type VqvaeConfig } from './config.js';

/** The Φ index of scale k of SN, out of K convs: argmin over NumPy-linspace ticks of
 *  |tick − k/(SN−1)| in float64, first index on ties (PhiPartiallyShared.__getitem__). Ties in
 *  exact arithmetic are decided by float64 rounding exactly as NumPy does; never a table. */
export function phiIndex(k: number, SN: number, K: number): number {
  if (K <= 1) return 0;
  const start = K === 4 ? 1 / 3 / K : 1 / 2 / K;
  const stop = K === 4 ? 1 - 1 / 3 / K : 1 - 1 / 2 / K;
  const step = (stop - start) / (K - 1);
  const at = k / (SN - 1);
  let best = 0;
  let bestD = Infinity;
  for (let i = 0; i < K; i++) {
    const tick = i === K - 1 ? stop : i * step + start;
    const d = Math.abs(tick - at);
    if (d < bestD) {
      bestD = d;
      best = i;
    }
  }
  return best;
}

/** No parameters, returns its input (nn.Identity where a Φ is disabled). */
export class Identity extends Module {
  forward(x: T.Tensor): T.Tensor {
    return x;
  }
}

/** Φ(h) = (1 − r)·h + r·conv(h), a Cv→Cv conv with zero padding (models/quant.py `Phi`). */
export class Phi extends Conv2d {
  readonly resi_ratio: number;

  constructor(Cv: number, quantResi: number, ks = 3) {
    super(Cv, Cv, ks, { stride: 1, padding: Math.floor(ks / 2) });
    this.resi_ratio = Math.abs(quantResi);
  }

  /** h [B, Cv, HW, HW] → [B, Cv, HW, HW] */
  override forward(h: T.Tensor): T.Tensor {
    return T.add(T.mul(h, 1 - this.resi_ratio), T.mul(super.forward(h), this.resi_ratio));
  }
}

type PhiLike = Phi | Identity;

/** share_quant_resi = 1: one Φ for every scale (`quant_resi.qresi.*`). */
export class PhiShared extends Module {
  qresi: PhiLike;
  constructor(qresi: PhiLike) {
    super();
    this.qresi = qresi;
  }
}

/** share_quant_resi = K > 1: K Φ shared by nearest tick (`quant_resi.qresi_ls.{i}.*`). */
export class PhiPartiallyShared extends Module {
  qresi_ls: PhiLike[];
  constructor(qresi_ls: PhiLike[]) {
    super();
    this.qresi_ls = qresi_ls;
  }
}

/** The multi-scale residual quantizer with the official parameter names. */
export class VectorQuantizer2 extends Module {
  embedding: Embedding; // [V, Cv]
  /** share_quant_resi = 0 gives a bare list (PhiNonShared is a ModuleList: `quant_resi.{i}.*`). */
  quant_resi: PhiShared | PhiPartiallyShared | PhiLike[];
  ema_vocab_hit_SV: T.Tensor; // [SN, V] usage statistics (training only)
  readonly V: number;
  readonly Cv: number;
  readonly usingZnorm: boolean;
  readonly sched: ScaleSchedule;

  constructor(cfg: VqvaeConfig) {
    super();
    this.V = cfg.vocab_size;
    this.Cv = cfg.z_channels;
    this.usingZnorm = cfg.using_znorm;
    this.sched = scaleSchedule(cfg.v_patch_nums);
    const make = (): PhiLike =>
      Math.abs(cfg.quant_resi) > 1e-6 ? new Phi(this.Cv, cfg.quant_resi) : new Identity();
    this.embedding = new Embedding(this.V, this.Cv);
    const n = cfg.share_quant_resi;
    const list = Array.from({ length: n === 0 ? this.sched.SN : n === 1 ? 1 : n }, make);
    this.quant_resi =
      n === 0 ? list : n === 1 ? new PhiShared(list[0] as PhiLike) : new PhiPartiallyShared(list);
    this.ema_vocab_hit_SV = buffer(T.zeros([this.sched.SN, this.V]));
  }

  /** The K Φ modules in order (a getter: a stored list would appear twice in the state dict). */
  get phis(): readonly PhiLike[] {
    const r = this.quant_resi;
    return Array.isArray(r) ? r : r instanceof PhiShared ? [r.qresi] : r.qresi_ls;
  }

  /** Which Φ conv scale k uses (index into the K convs). */
  phiIndexOf(k: number): number {
    return phiIndex(k, this.sched.SN, this.phis.length);
  }

  /** Φ of scale k applied to h [B, Cv, HW, HW]. */
  phi(k: number, h: T.Tensor): T.Tensor {
    return (this.phis[this.phiIndexOf(k)] as PhiLike).forward(h);
  }

  /** Codebook rows of idx (row-major over the pn×pn grid of every sample) as [B, Cv, pn, pn]. */
  lookup(idx: Int32Array, B: number, pn: number): T.Tensor {
    if (idx.length !== B * pn * pn) {
      throw new Error(`lookup: ${idx.length} indices given for ${B} maps of ${pn}×${pn}`);
    }
    const e = T.embedding(this.embedding.weight, new T.Tensor(idx, [B, pn * pn])); // [B, pn², Cv]
    return T.reshape(T.transpose(e, 1, 2), [B, this.Cv, pn, pn]);
  }

  /** Token vectors x [B, pn², Cv] (row-major grid) as a map [B, Cv, pn, pn]. */
  tokensToMap(x: T.Tensor, pn: number): T.Tensor {
    const B = x.shape[0] as number;
    return T.reshape(T.transpose(x, 1, 2), [B, this.Cv, pn, pn]);
  }

  /** Φ_k(Up_k(h)) where Up_k is bicubic to HW×HW except at the last scale: h [B, Cv, pn, pn]. */
  scaleContribution(k: number, h: T.Tensor): T.Tensor {
    const { SN, HW } = this.sched;
    const up = k === SN - 1 ? h : T.resize2d(h, HW, HW, 'bicubic');
    return this.phi(k, up);
  }

  /** One autoregressive step (get_next_autoregressive_input): f̂ ← f̂ + Φ_k(Up_k(h)); the next
   *  map is area(f̂, pn_{k+1}) (f̂ itself at the last scale). fhat [B, Cv, HW, HW]. */
  nextAutoregressiveInput(
    k: number,
    fhat: T.Tensor,
    h: T.Tensor,
  ): { fhat: T.Tensor; next: T.Tensor } {
    const { SN, patchNums } = this.sched;
    const f = T.add(fhat, this.scaleContribution(k, h));
    if (k === SN - 1) return { fhat: f, next: f };
    const pn = patchNums[k + 1] as number;
    return { fhat: f, next: T.resize2d(f, pn, pn, 'area') };
  }

  /** Cumulative f̂ after each scale from per-scale maps hs[k] [B, Cv, pn_k, pn_k]
   *  (embed_to_fhat with all_to_max_scale). */
  embedToFhat(hs: readonly T.Tensor[]): T.Tensor[] {
    const { SN, HW } = this.sched;
    if (hs.length !== SN) throw new Error(`embedToFhat: expected ${SN} scales, got ${hs.length}`);
    const B = (hs[0] as T.Tensor).shape[0] as number;
    let f = T.zeros([B, this.Cv, HW, HW]);
    const out: T.Tensor[] = [];
    hs.forEach((h, k) => {
      f = T.add(f, this.scaleContribution(k, h));
      out.push(f);
    });
    return out;
  }

  /** Cumulative f̂ after each scale from per-scale indices idx[k] [B·pn_k²]. */
  idxBlToFhat(idx: readonly Int32Array[], B: number): T.Tensor[] {
    return this.embedToFhat(
      idx.map((ix, k) => this.lookup(ix, B, this.sched.patchNums[k] as number)),
    );
  }

  /** Teacher-forcing input (idxBl_to_var_input): for k = 0..SN−2, f̂_{≤k} area-pooled to
   *  pn_{k+1}, flattened row-major and concatenated → [B, L − pn_0², Cv]. */
  idxBlToVarInput(idx: readonly Int32Array[], B: number): T.Tensor {
    const { SN, patchNums, HW } = this.sched;
    let f = T.zeros([B, this.Cv, HW, HW]);
    const parts: T.Tensor[] = [];
    for (let k = 0; k < SN - 1; k++) {
      const h = this.lookup(idx[k] as Int32Array, B, patchNums[k] as number);
      const step = this.nextAutoregressiveInput(k, f, h);
      f = step.fhat;
      const pn = patchNums[k + 1] as number;
      parts.push(T.transpose(T.reshape(step.next, [B, this.Cv, pn * pn]), 1, 2));
    }
    return T.concat(parts, 1);
  }

  /** Residual quantization of f [B, Cv, HW, HW] (f_to_idxBl_or_fhat): per-scale indices
   *  [B·pn²] (row-major) and the cumulative f̂ after every scale. */
  fToIdxBl(f: T.Tensor): { idx: Int32Array[]; fhat: T.Tensor[] } {
    const { SN, patchNums, HW } = this.sched;
    const [B, C, H, W] = f.shape as [number, number, number, number];
    if (C !== this.Cv || H !== HW || W !== HW) {
      throw new Error(
        `fToIdxBl: expected f [B, ${this.Cv}, ${HW}, ${HW}], got [${f.shape.join(', ')}]`,
      );
    }
    let rest = f;
    let fhat = T.zeros(f.shape);
    const idx: Int32Array[] = [];
    const fhats: T.Tensor[] = [];
    for (let k = 0; k < SN; k++) {
      const pn = patchNums[k] as number;
      const z = k === SN - 1 ? rest : T.resize2d(rest, pn, pn, 'area'); // [B, Cv, pn, pn]
      const zNC = T.reshape(T.permute(z, [0, 2, 3, 1]), [B * pn * pn, C]);
      const ix = this.nearest(zNC);
      const h = this.scaleContribution(k, this.lookup(ix, B, pn));
      fhat = T.add(fhat, h);
      rest = T.sub(rest, h);
      idx.push(ix);
      fhats.push(fhat);
    }
    return { idx, fhat: fhats };
  }

  /** Nearest codebook row of every row of z [N, Cv]: argmin ‖z‖² + ‖e‖² − 2 z·e (or, with
   *  using_znorm, argmax of the cosine similarity). */
  nearest(z: T.Tensor): Int32Array {
    const [N, C] = z.shape as [number, number];
    const V = this.V;
    const E = this.embedding.weight;
    const zd = z.data;
    const ed = E.data;
    const dot = T.matmul(z, E, { transB: true }).data; // [N, V]
    const ee = new Float64Array(V);
    const out = new Int32Array(N);
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += (ed[v * C + c] as number) ** 2;
      ee[v] = this.usingZnorm ? Math.max(Math.sqrt(s), 1e-12) : Math.fround(s);
    }
    for (let n = 0; n < N; n++) {
      let zz = 0;
      for (let c = 0; c < C; c++) zz += (zd[n * C + c] as number) ** 2;
      const zf = Math.fround(zz);
      let best = 0;
      let bestD = Infinity;
      for (let v = 0; v < V; v++) {
        const d = this.usingZnorm
          ? -(dot[n * V + v] as number) / (ee[v] as number)
          : Math.fround(zf + (ee[v] as number)) - 2 * (dot[n * V + v] as number);
        if (d < bestD) {
          bestD = d;
          best = v;
        }
      }
      out[n] = best;
    }
    return out;
  }
}
