// Parity checkers for the shared fixtures of kinds `llamagen_gpt` and `llamagen_vq`: rebuild
// the model from config.json, load weights.pt and weights.safetensors (both, strictly), then
// recompute exactly the outputs present in io.safetensors and compare them with the official
// PyTorch results, under the tolerance rule of ../fixture-report.ts.

import { join } from 'node:path';
import { readJsonObject } from '../../io/json.js';
import { loadSafetensors } from '../../io/safetensors.js';
import * as T from '../../tensor/index.js';
import type { Tensor } from '../../tensor/index.js';
import { cfgMix } from '../../sampling/index.js';
import { gptConfigFromJson, vqConfigFromJson } from './config.js';
import { Transformer } from './gpt.js';
import { VQModel } from './vq.js';
import { generate } from './generate.js';
import { loadGptWeights, loadVqWeights, readStateDict } from './load.js';
import {
  compareFloat,
  compareInt,
  compareStateDicts,
  type CheckLine,
  type FixtureReport,
} from '../fixture-report.js';

/** Both weight files, loaded and checked to hold the same tensors. */
function bothWeights(dir: string, lines: CheckLine[]): [Map<string, Tensor>, Map<string, Tensor>] {
  const pt = readStateDict(join(dir, 'weights.pt'));
  const st = readStateDict(join(dir, 'weights.safetensors'));
  lines.push(compareStateDicts('weights.pt == weights.safetensors', st, pt));
  return [pt, st];
}

type Io = Map<string, Tensor>;

function need(io: Io, name: string, why: string): Tensor {
  const t = io.get(name);
  if (!t) throw new Error(`io.safetensors has no '${name}' (needed for ${why})`);
  return t;
}

function unknownOutputs(io: Io, known: ReadonlySet<string>, lines: CheckLine[]): void {
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
}

// ---- llamagen_gpt -----------------------------------------------------------------------------

const GPT_INPUTS = ['cond_idx', 'tokens', 'cfg_scale', 'inter_t_start'];
const GPT_OUTPUTS = [
  'rope_freqs_cis',
  'tf_logits',
  'tf_logits_uncond',
  'tf_cfg_logits',
  'kv_logits',
  'cfg_logits',
  'cfg_generated',
  'inter_cfg_logits',
  'inter_generated',
];

export function checkLlamagenGptFixture(dir: string): FixtureReport {
  const cfgJson = readJsonObject(join(dir, 'config.json'));
  const config = gptConfigFromJson(cfgJson);
  const io: Io = loadSafetensors(join(dir, 'io.safetensors'));
  const lines: CheckLine[] = [];
  const [pt, st] = bothWeights(dir, lines);
  const model = new Transformer(config);
  loadGptWeights(model, pt);
  const modelSt = new Transformer(config);
  loadGptWeights(modelSt, st);
  const K = config.cls_token_num;
  const L = config.block_size;
  const V = config.vocab_size;
  const has = (n: string) => io.has(n);
  const labels = () => need(io, 'cond_idx', 'the class labels');
  const tokens = () => need(io, 'tokens', 'the token sequence');
  const B = () => labels().size;
  const cfgScale = (): number => {
    const t = io.get('cfg_scale');
    if (t) return t.data[0] as number;
    const c = cfgJson.cfg_scale;
    if (typeof c !== 'number')
      throw new Error('neither io.safetensors nor config.json gives cfg_scale');
    return c;
  };
  const exp = (n: string) => io.get(n) as Tensor;
  const cmp = (n: string, t: Tensor) => lines.push(compareFloat(n, t, exp(n)));

  if (has('rope_freqs_cis')) cmp('rope_freqs_cis', model.freqsCis);
  T.noGrad(() => {
    let tf: Tensor | null = null;
    let tfU: Tensor | null = null;
    const tfLogits = (): Tensor => (tf ??= model.forward(tokens(), labels()));
    const nullLabels = () => new T.Tensor(new Int32Array(B()).fill(config.num_classes), [B()]);
    const tfUncond = (): Tensor => (tfU ??= model.forward(tokens(), nullLabels()));
    if (has('tf_logits')) {
      cmp('tf_logits', tfLogits());
      const s = modelSt.forward(tokens(), labels());
      lines.push(compareFloat('tf_logits (weights.safetensors)', s, exp('tf_logits')));
    }
    if (has('tf_logits_uncond')) cmp('tf_logits_uncond', tfUncond());
    if (has('tf_cfg_logits')) {
      // Rows K−1 .. K+L−2 predict tokens 0..L−1.
      const c = T.narrow(tfLogits(), 1, K - 1, L);
      const u = T.narrow(tfUncond(), 1, K - 1, L);
      const m = cfgMix(c.data as Float32Array, u.data as Float32Array, cfgScale());
      lines.push(
        compareFloat('tf_cfg_logits', { data: m, shape: [B(), L, V] }, exp('tf_cfg_logits')),
      );
    }
    if (has('kv_logits')) {
      const b = B();
      const cache = model.newCache(b);
      const rows: Tensor[] = [model.forward(null, labels(), { cache, lastOnly: true })];
      const tk = tokens();
      for (let i = 0; i < L; i++) rows.push(model.forward(T.narrow(tk, 1, i, 1), null, { cache }));
      cmp('kv_logits', T.concat(rows, 1));
    }
    const forced =
      (offset: number, n: number, got: Float32Array[]) =>
      (logits: Float32Array, step: number): Int32Array => {
        got.push(logits.slice());
        const tk = tokens();
        const ids = new Int32Array(B());
        for (let b = 0; b < B(); b++) ids[b] = tk.data[b * L + offset + step] as number;
        if (step >= n) throw new Error('generate asked for more tokens than expected');
        return ids;
      };
    const stackSteps = (got: Float32Array[], n: number): Float32Array => {
      const out = new Float32Array(B() * n * V); // [B, n, V]
      got.forEach((g, s) => {
        for (let b = 0; b < B(); b++) out.set(g.subarray(b * V, (b + 1) * V), (b * n + s) * V);
      });
      return out;
    };
    if (has('cfg_logits') || has('cfg_generated')) {
      const got: Float32Array[] = [];
      const gen = generate(model, labels(), {
        cfgScale: cfgScale(),
        rng: new T.Rng(0),
        choose: forced(0, L, got),
      });
      if (has('cfg_logits'))
        lines.push(
          compareFloat(
            'cfg_logits',
            { data: stackSteps(got, L), shape: [B(), L, V] },
            exp('cfg_logits'),
          ),
        );
      if (has('cfg_generated'))
        lines.push(compareInt('cfg_generated', gen.data, exp('cfg_generated')));
    }
    if (has('inter_cfg_logits') || has('inter_generated')) {
      const P = need(io, 'inter_t_start', 'the prefix length').data[0] as number;
      const prefix = T.narrow(tokens(), 1, 0, P);
      const got: Float32Array[] = [];
      const gen = generate(model, labels(), {
        cfgScale: cfgScale(),
        rng: new T.Rng(0),
        prefix,
        choose: forced(P, L - P, got),
      });
      if (has('inter_cfg_logits'))
        lines.push(
          compareFloat(
            'inter_cfg_logits',
            { data: stackSteps(got, L - P), shape: [B(), L - P, V] },
            exp('inter_cfg_logits'),
          ),
        );
      if (has('inter_generated'))
        lines.push(compareInt('inter_generated', gen.data, exp('inter_generated')));
    }
  });
  unknownOutputs(io, new Set([...GPT_INPUTS, ...GPT_OUTPUTS]), lines);
  return { kind: 'llamagen_gpt', dir, lines };
}

// ---- llamagen_vq ------------------------------------------------------------------------------

const VQ_INPUTS = ['codes', 'qzshape', 'latent', 'image'];
const VQ_OUTPUTS = [
  'codebook',
  'decode_code_out',
  'decode_code_latent',
  'decode_out',
  'encode_h',
  'encode_quant',
  'encode_indices',
  'recon',
];

export function checkLlamagenVqFixture(dir: string): FixtureReport {
  const config = vqConfigFromJson(readJsonObject(join(dir, 'config.json')));
  const io: Io = loadSafetensors(join(dir, 'io.safetensors'));
  const lines: CheckLine[] = [];
  const [pt, st] = bothWeights(dir, lines);
  const vq = new VQModel(config);
  loadVqWeights(vq, pt);
  const vqSt = new VQModel(config);
  loadVqWeights(vqSt, st);
  const has = (n: string) => io.has(n);
  const exp = (n: string) => io.get(n) as Tensor;
  const cmp = (n: string, t: Tensor) => lines.push(compareFloat(n, t, exp(n)));
  const qzshape = (): [number, number, number, number] => {
    const s = Array.from(need(io, 'qzshape', 'decode_code').data);
    if (s.length !== 4) throw new Error(`qzshape must have 4 entries, got ${s.length}`);
    return [s[0] as number, s[1] as number, s[2] as number, s[3] as number];
  };
  T.noGrad(() => {
    if (has('codebook')) cmp('codebook', vq.quantize.codebook());
    if (has('decode_code_latent'))
      cmp(
        'decode_code_latent',
        vq.quantize.codebookEntry(need(io, 'codes', 'decode_code'), qzshape()),
      );
    if (has('decode_code_out'))
      cmp('decode_code_out', vq.decodeCode(need(io, 'codes', 'decode_code'), qzshape()));
    if (has('decode_out')) {
      cmp('decode_out', vq.decode(need(io, 'latent', 'decode')));
      const s = vqSt.decode(need(io, 'latent', 'decode'));
      lines.push(compareFloat('decode_out (weights.safetensors)', s, exp('decode_out')));
    }
    if (['encode_h', 'encode_quant', 'encode_indices', 'recon'].some(has)) {
      const enc = vq.encode(need(io, 'image', 'encode'));
      if (has('encode_h')) cmp('encode_h', enc.h);
      if (has('encode_quant')) cmp('encode_quant', enc.quant);
      if (has('encode_indices'))
        lines.push(compareInt('encode_indices', enc.indices, exp('encode_indices')));
      if (has('recon')) cmp('recon', vq.decode(enc.quant));
    }
  });
  unknownOutputs(io, new Set([...VQ_INPUTS, ...VQ_OUTPUTS]), lines);
  return { kind: 'llamagen_vq', dir, lines };
}
