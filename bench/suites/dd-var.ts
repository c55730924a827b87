// Suite `dd-var`: VAR teacher vs the VAR DD student, images/s (tokens only, no VQVAE decode, as
// the VAR teacher row of PEERS.md), at batch 1 and 8, per backend. Random weights at the d16
// size (C 1024, 16 heads, 256 px: 680 tokens, V 4096, Cv 32) on native; the ts reference runs a
// reduced size (depth 2, width 64), as does --quick on every backend (batch 1 only). Each DD row
// carries the teacher of the same run, size, batch and backend as `ref`, so the table's ratio
// column is the DD speed-up. Teacher settings: cfg 2.0, top-k 900, top-p 0.95 (the
// teacher-involved DD sampler's); DD: t_list [0] and [0, 5], split_t 5 (the d16 commands).
//
// Same-machine PyTorch references (PEERS.md, tuned torch 1.13, 2 cores): VAR-d16 teacher 5.47 s
// per image at batch 1; VAR-DD d16 one step 4.24 s per image at batch 1.

import { VQVAE_CH160V4096Z32, varPreset, type VarConfig } from '../../src/models/var/config.js';
import { generate } from '../../src/models/var/generate.js';
import { VectorQuantizer2 } from '../../src/models/var/quant.js';
import { VAR } from '../../src/models/var/var.js';
import type { Module } from '../../src/nn/module.js';
import * as T from '../../src/tensor/index.js';
import { sampleVarDD } from '../../src/dd/students/var/sample.js';
import { VarDD } from '../../src/dd/students/var/student.js';
import { availableBackends, timeMs, withBackend } from '../backends.js';
import type { BenchRow, BenchSuite } from '../types.js';
import { batchNoise } from '../../src/dd/noise.js';

/** Fast deterministic fill (xorshift32 uniforms with the std of a sensible init): the suite
 *  needs 640 M values at d16, where Box–Muller normals would dominate the run. Weight matrices
 *  get std 1/√fan_in, everything else 0.02; attention temperatures stay at ln 4. */
function fastRandom<M extends Module>(m: M, seed: number): M {
  let s = seed >>> 0 || 1;
  for (const [name, t] of m.namedParameters()) {
    if (name.endsWith('scale_mul_1H11')) continue;
    const std =
      name.endsWith('weight') && t.rank === 2 ? 1 / Math.sqrt(t.shape[1] as number) : 0.02;
    const a = std * Math.sqrt(3) * 2 ** -31;
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      d[i] = (s | 0) * a;
    }
  }
  return m;
}

interface Size {
  readonly label: string;
  readonly cfg: VarConfig;
}

const D16: Size = { label: 'd16', cfg: varPreset(16) };
const REDUCED: Size = { label: 'd2 C64', cfg: varPreset(2, { embed_dim: 64, num_heads: 1 }) };

export const suite: BenchSuite = {
  name: 'dd-var',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const quant = new VectorQuantizer2(VQVAE_CH160V4096Z32);
    fastRandom(quant, 3);
    for (const be of availableBackends()) {
      const size = quick || be.name === 'ts' ? REDUCED : D16;
      const batches = quick ? [1] : [1, 8];
      const teacher = fastRandom(new VAR(size.cfg), 1);
      const student = fastRandom(
        new VarDD({ ...size.cfg, n_d_embed_enable: true, layerwise_n_d_embed: true }),
        2,
      );
      const { L } = student;
      await withBackend(be, async () => {
        for (const B of batches) {
          const labels = Int32Array.from({ length: B }, (_, i) => (i * 97) % 1000);
          const noise = new T.Tensor(batchNoise(0, B, L * 32), [B, L, 32]);
          const teacherRun = () =>
            generate(teacher, quant, {
              labels,
              cfg: 2,
              topK: 900,
              topP: 0.95,
              rng: new T.Rng(0, 1),
            });
          const dd = (tList: number[]) => () =>
            sampleVarDD(student, quant, { labels, tList, splitT: 5, noise });
          const warm = B === 1 ? 1 : 0;
          const perSec = (ms: number) => (1000 * B) / ms;
          const tTeacher = perSec(await timeMs(teacherRun, 1, warm));
          const t1 = perSec(await timeMs(dd([0]), 1, warm));
          const t2 = perSec(await timeMs(dd([0, 5]), 1, 0));
          const ref = { backend: `teacher ${be.name}`, value: tTeacher };
          const base = { suite: 'dd-var', backend: be.name, unit: 'images/s' };
          rows.push({
            ...base,
            name: `VAR teacher ${size.label} B=${B} (10 scales, cfg 2)`,
            value: tTeacher,
          });
          rows.push({ ...base, name: `VAR-DD ${size.label} 1-step B=${B}`, value: t1, ref });
          rows.push({ ...base, name: `VAR-DD ${size.label} 2-step B=${B}`, value: t2, ref });
        }
      });
    }
    return rows;
  },
};
