// LPIPS (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
// Metric"), version 0.1 with the VGG16 trunk, computed as the `lpips` package's
// `LPIPS(net='vgg').forward(in0, in1)` does (eval mode: dropout inactive):
//   x ← (x − shift) / scale                     ScalingLayer, inputs in [−1, 1]
//   f_k = VGG16 features up to relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (k = 0..4)
//   f̂_k = f_k / (sqrt(Σ_c f_k²) + 1e-10)      unit-normalised over channels
//   d = Σ_k mean_hw lin_k((f̂0_k − f̂1_k)²)       lin_k: 1×1 conv C_k → 1, no bias
// → [N, 1, 1, 1].
//
// Module names are torchvision's `features.{i}.weight/bias` (i = 0, 2, 5, 7, 10, 12, 14, 17, 19,
// 21, 24, 26, 28) and the package's `lin{k}.model.1.weight`. loadLpips accepts them from one
// combined file, from the package's lin-only `vgg.pth` plus torchvision's `vgg16` weights, or
// from the package's full LPIPS state dict (`net.slice{s}.{i}.*` with torchvision indices kept
// inside slices, `lin{k}.*`, `lins.{k}.*`, `scaling_layer.shift/scale`).
//
// One deviation, for gradients only: the channel norm is sqrt(max(Σ f², 1e-30)), so a feature
// column that ReLU zeroed entirely has gradient 0 instead of torch's NaN; the value differs from
// the package's only where every channel is below 1e-15 (its normalised features are ~0 there).
//
// Letters: N batch, C channels, H/W height/width.

import { loadCheckpoint } from '../io/checkpoint.js';
import { Conv2d, Dropout } from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { fmt, sameShape } from '../tensor/shape.js';
import * as T from '../tensor/index.js';

/** VGG16 stage widths (relu1_2 … relu5_3); tests shrink them. */
export interface LpipsConfig {
  readonly widths: readonly [number, number, number, number, number];
}

export const LPIPS_VGG: LpipsConfig = Object.freeze({
  widths: Object.freeze([64, 128, 256, 512, 512]) as readonly [
    number,
    number,
    number,
    number,
    number,
  ],
});

/** ScalingLayer constants of lpips v0.1 (per RGB channel). */
export const LPIPS_SHIFT = Object.freeze([-0.03, -0.088, -0.188]);
export const LPIPS_SCALE = Object.freeze([0.458, 0.448, 0.45]);
const EPS = 1e-10;
const NORM_FLOOR = 1e-30;

/** Convs per VGG16 stage; the first stage starts at features.0, later ones after a max-pool. */
const STAGE_CONVS = [2, 2, 3, 3, 3] as const;
/** torchvision vgg16 `features` index ranges of the lpips slices: slice s = [SLICE_START[s−1],
 *  SLICE_START[s]). */
const SLICE_START = [0, 4, 9, 16, 23, 30] as const;

class ReLU extends Module {}
class MaxPool2d extends Module {}

/** The package's NetLinLayer: `model = Sequential(Dropout(), Conv2d(C, 1, 1, bias=False))`. */
export class NetLinLayer extends Module {
  model: [Dropout, Conv2d];
  constructor(c: number) {
    super();
    this.model = [new Dropout(0.5), new Conv2d(c, 1, 1, { bias: false })];
  }
  /** [N, C, H, W] → [N, 1, H, W] (dropout is inactive: LPIPS runs in eval mode). */
  forward(x: T.Tensor): T.Tensor {
    return this.model[1].forward(x);
  }
}

export class LPIPS extends Module {
  /** torchvision vgg16().features[0:30]: conv, ReLU and max-pool layers at their indices. */
  features: Module[];
  lin0: NetLinLayer;
  lin1: NetLinLayer;
  lin2: NetLinLayer;
  lin3: NetLinLayer;
  lin4: NetLinLayer;

  constructor(readonly config: LpipsConfig = LPIPS_VGG) {
    super();
    const w = config.widths;
    if (w.length !== 5 || !w.every((c) => Number.isInteger(c) && c >= 1))
      throw new Error(`LPIPS: widths must be 5 positive integers, got ${JSON.stringify(w)}`);
    this.features = [];
    let cin = 3;
    STAGE_CONVS.forEach((n, s) => {
      if (s > 0) this.features.push(new MaxPool2d());
      for (let i = 0; i < n; i++) {
        this.features.push(new Conv2d(cin, w[s] as number, 3, { padding: 1 }), new ReLU());
        cin = w[s] as number;
      }
    });
    const lins = w.map((c) => new NetLinLayer(c));
    [this.lin0, this.lin1, this.lin2, this.lin3, this.lin4] = lins as [
      NetLinLayer,
      NetLinLayer,
      NetLinLayer,
      NetLinLayer,
      NetLinLayer,
    ];
    this.eval();
    for (const p of this.parameters()) p.requireGrad(false); // a frozen metric
  }

  get lins(): readonly NetLinLayer[] {
    return [this.lin0, this.lin1, this.lin2, this.lin3, this.lin4];
  }

  /** x [N, 3, H, W] (already scaled) → the five stage outputs relu1_2 … relu5_3. */
  trunk(x: T.Tensor): T.Tensor[] {
    const outs: T.Tensor[] = [];
    let h = x;
    this.features.forEach((layer, i) => {
      if (layer instanceof Conv2d) h = layer.forward(h);
      else if (layer instanceof ReLU) h = T.relu(h);
      else h = maxPool2x2(h);
      if (SLICE_START.includes((i + 1) as (typeof SLICE_START)[number])) outs.push(h);
    });
    return outs;
  }

  /** in0, in1 [N, 3, H, W] in [−1, 1] (H, W ≥ 16) → distance [N, 1, 1, 1]. */
  forward(in0: T.Tensor, in1: T.Tensor): T.Tensor {
    if (in0.rank !== 4 || in0.shape[1] !== 3 || !sameShape(in0.shape, in1.shape))
      throw new Error(
        `LPIPS: expected two images [N, 3, H, W] of the same shape, got ${fmt(in0.shape)} and ${fmt(in1.shape)}`,
      );
    const [N, , H, W] = in0.shape as [number, number, number, number];
    if (H < 16 || W < 16)
      throw new Error(
        `LPIPS: images must be at least 16×16 (four 2×2 max-pools before relu5_3), got ${H}×${W}`,
      );
    const f0 = this.trunk(scaling(in0));
    const f1 = this.trunk(scaling(in1));
    const res = this.lins.map((lin, k) => {
      const d = T.square(T.sub(unitNormalize(f0[k] as T.Tensor), unitNormalize(f1[k] as T.Tensor)));
      return spatialAverage(lin.forward(d)); // [N, 1]
    });
    const val = res.slice(1).reduce((a, r) => T.add(a, r), res[0] as T.Tensor);
    return T.reshape(val, [N, 1, 1, 1]);
  }
}

/** ScalingLayer: (x − shift) / scale per channel. x [N, 3, H, W] → [N, 3, H, W]. */
export function scaling(x: T.Tensor): T.Tensor {
  const dt = x.dtype === 'float64' ? 'float64' : 'float32';
  const shift = T.fromArray([...LPIPS_SHIFT], [1, 3, 1, 1], dt);
  const scale = T.fromArray([...LPIPS_SCALE], [1, 3, 1, 1], dt);
  return T.div(T.sub(x, shift), scale);
}

/** normalize_tensor: x / (sqrt(Σ_c x²) + 1e-10). [N, C, H, W] → [N, C, H, W]. */
export function unitNormalize(x: T.Tensor): T.Tensor {
  const s = T.sum(T.square(x), 1, { keepDim: true }); // [N, 1, H, W]
  return T.div(x, T.add(T.sqrt(T.maximum(s, NORM_FLOOR)), EPS));
}

/** spatial_average(keepdim=True): [N, C, H, W] → [N, C] (reshaped by the caller). */
function spatialAverage(x: T.Tensor): T.Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  return T.mean(T.reshape(x, [N, C, H * W]), 2);
}

/** nn.MaxPool2d(2, 2) composed from reshape + max (odd trailing rows/columns dropped, as torch
 *  floors). [N, C, H, W] → [N, C, ⌊H/2⌋, ⌊W/2⌋]. */
export function maxPool2x2(x: T.Tensor): T.Tensor {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const h = Math.floor(H / 2);
  const w = Math.floor(W / 2);
  if (h === 0 || w === 0) throw new Error(`maxPool2x2: input ${fmt(x.shape)} is smaller than 2×2`);
  let y = x;
  if (2 * h !== H) y = T.narrow(y, 2, 0, 2 * h);
  if (2 * w !== W) y = T.narrow(y, 3, 0, 2 * w);
  y = T.reshape(y, [N, C, h, 2, w, 2]);
  return T.max(T.max(y, 5), 3);
}

// ---- loading -------------------------------------------------------------------------------

export interface LpipsKeyReport {
  readonly missing: string[];
  readonly unexpected: string[];
  readonly mismatched: string[];
}

/** Maps a key of any accepted layout to the module's name: `features.{i}.*` and `lin{k}.*` as
 *  they are, `net.slice{s}.{i}.*` → `features.{i}.*` (i must lie in slice s), `lins.{k}.*` →
 *  `lin{k}.*`. Returns 'ignore' for keys that are known but unused (torchvision's `classifier.*`,
 *  the package's `scaling_layer.*`, checked separately) and null for unknown keys. */
export function canonicalLpipsName(key: string): string | 'ignore' | null {
  if (/^features\.\d+\.(weight|bias)$/.test(key)) return key;
  if (/^lin[0-4]\.model\.1\.weight$/.test(key)) return key;
  let m = /^lins\.([0-4])\.model\.1\.weight$/.exec(key);
  if (m) return `lin${m[1]}.model.1.weight`;
  m = /^net\.slice([1-5])\.(\d+)\.(weight|bias)$/.exec(key);
  if (m) {
    const s = Number(m[1]);
    const i = Number(m[2]);
    if (i < (SLICE_START[s - 1] as number) || i >= (SLICE_START[s] as number)) return null;
    return `features.${i}.${m[3]}`;
  }
  if (/^classifier\.\d+\.(weight|bias)$/.test(key)) return 'ignore';
  if (key === 'scaling_layer.shift' || key === 'scaling_layer.scale') return 'ignore';
  return null;
}

/** Copies weights from one or more state dicts (e.g. the package's lin-only vgg.pth and
 *  torchvision's vgg16) into `model`. Every problem — missing, unexpected, mis-shaped, given
 *  twice, wrong scaling constants — is reported in one error; nothing is modified then. */
export function loadLpipsWeights(
  model: LPIPS,
  sources: readonly { readonly name: string; readonly sd: ReadonlyMap<string, T.Tensor> }[],
): LpipsKeyReport {
  const own = model.stateDict();
  const found = new Map<string, { t: T.Tensor; from: string }>();
  const report: LpipsKeyReport = { missing: [], unexpected: [], mismatched: [] };
  const other: string[] = [];
  for (const { name, sd } of sources) {
    for (const [key, t] of sd) {
      const c = canonicalLpipsName(key);
      if (c === null || (c !== 'ignore' && !own.has(c))) {
        report.unexpected.push(`${key} (${name})`);
        continue;
      }
      if (c === 'ignore') {
        if (key.startsWith('scaling_layer.')) {
          const want = key.endsWith('shift') ? LPIPS_SHIFT : LPIPS_SCALE;
          const ok =
            sameShape(t.shape, [1, 3, 1, 1]) &&
            want.every((v, i) => Math.abs((t.data[i] as number) - v) < 1e-6);
          if (!ok)
            other.push(
              `${key} (${name}) is ${fmt(t.shape)} ${JSON.stringify([...t.data].slice(0, 3))}, expected the v0.1 constants ${JSON.stringify(want)} as [1, 3, 1, 1]`,
            );
        }
        continue;
      }
      const prev = found.get(c);
      if (prev && prev.from !== name) {
        other.push(`${c} is given by both ${prev.from} and ${name}`);
        continue;
      }
      found.set(c, { t, from: name });
    }
  }
  for (const [c, mine] of own) {
    const f = found.get(c);
    if (!f) report.missing.push(c);
    else if (!sameShape(f.t.shape, mine.shape))
      report.mismatched.push(
        `${c} expected ${fmt(mine.shape)} found ${fmt(f.t.shape)} (${f.from})`,
      );
  }
  const n = report.missing.length + report.unexpected.length + report.mismatched.length;
  if (n + other.length > 0) {
    const lines = [`LPIPS: the weights do not match the VGG16 LPIPS network`];
    const list = (title: string, xs: string[]) => {
      if (xs.length > 0)
        lines.push(
          `  ${title} (${xs.length}): ${xs.slice(0, 30).join(', ')}${xs.length > 30 ? ', …' : ''}`,
        );
    };
    list('missing keys', report.missing);
    list('unexpected keys', report.unexpected);
    list('mis-shaped keys', report.mismatched);
    list('other problems', other);
    lines.push(
      "HINT: pass the lpips package's weights/v0.1/vgg.pth (lin0..lin4) as --lpips / lpips.weights and torchvision's vgg16 weights (features.*) as --vgg / lpips.vgg, or one combined file (an LPIPS module's full state dict works as is)",
    );
    throw new Error(lines.join('\n'));
  }
  for (const [c, mine] of own) mine.data.set((found.get(c) as { t: T.Tensor }).t.data);
  return report;
}

/** Loads LPIPS-VGG from files (.pth/.pt/.safetensors): `weights` with the lin layers (or
 *  everything), `vgg` (optional) with torchvision's vgg16 weights. */
export function loadLpips(weights: string, vgg: string | null = null, cfg = LPIPS_VGG): LPIPS {
  const model = new LPIPS(cfg);
  const sources = [{ name: weights, sd: loadCheckpoint(weights) }];
  if (vgg !== null) sources.push({ name: vgg, sd: loadCheckpoint(vgg) });
  loadLpipsWeights(model, sources);
  return model;
}
