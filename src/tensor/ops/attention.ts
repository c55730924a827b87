// Scaled dot-product attention (fused forward and backward kernels) and rotary embedding.
// Letters: B batch, H query heads, Hkv key/value heads, Lq queries, Lk keys, D head dim.

import type { AttentionParams } from '../../backend/kernels.js';
import { record } from '../autograd.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';
import { K, alloc, fdata, floatDType, idata, sameFloat } from './util.js';
import { sumToShape } from './reduce.js';
import { reshape } from './layout.js';

export type AttentionMask =
  | { readonly kind: 'none' }
  /** Query i (at absolute position offset + i) sees keys 0 … offset + i. */
  | { readonly kind: 'causal'; readonly offset?: number }
  /** Key j is visible to query i iff kLevel[j] ≤ qLevel[i] (VAR's block-causal mask uses the
   *  scale index of every token as its level). */
  | { readonly kind: 'levels'; readonly qLevel: Int32Array; readonly kLevel: Int32Array };

export interface SdpaOpts {
  readonly mask?: AttentionMask;
  /** Additive bias broadcastable to [B, H, Lq, Lk]. */
  readonly bias?: Tensor;
  /** Default 1/sqrt(D). */
  readonly scale?: number;
  /** Use only the first kvLength rows of k and v (a KV cache of larger capacity). */
  readonly kvLength?: number;
}

/** q [B, H, Lq, D], k [B, Hkv, Lk, D], v [B, Hkv, Lk, Dv] → [B, H, Lq, Dv]. */
export function sdpa(q: Tensor, k: Tensor, v: Tensor, opts: SdpaOpts = {}): Tensor {
  const dt = sameFloat('sdpa', q, k);
  sameFloat('sdpa', q, v);
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new Error(`sdpa: expected rank-4 q, k, v ([B, H, L, D]), got ${fmt(q.shape)}, ${fmt(k.shape)}, ${fmt(v.shape)}`);
  }
  const [batch, heads, lq, dim] = q.shape as [number, number, number, number];
  const [kb, kvHeads, kvCap, kd] = k.shape as [number, number, number, number];
  const dimV = v.shape[3] as number;
  if (kb !== batch || v.shape[0] !== batch || kd !== dim || v.shape[1] !== kvHeads || v.shape[2] !== kvCap) {
    throw new Error(`sdpa: q ${fmt(q.shape)}, k ${fmt(k.shape)} and v ${fmt(v.shape)} do not agree (batch, heads, length or head dim)`);
  }
  if (heads % kvHeads !== 0) throw new Error(`sdpa: ${heads} query heads are not a multiple of ${kvHeads} key/value heads`);
  const lk = opts.kvLength ?? kvCap;
  if (lk < 0 || lk > kvCap) throw new Error(`sdpa: kvLength ${lk} exceeds the ${kvCap} rows of k/v`);
  const mask = opts.mask ?? { kind: 'none' };
  let qLevel: Int32Array | null = null;
  let kLevel: Int32Array | null = null;
  if (mask.kind === 'causal') {
    const off = mask.offset ?? lk - lq;
    qLevel = Int32Array.from({ length: lq }, (_, i) => off + i);
    kLevel = Int32Array.from({ length: lk }, (_, j) => j);
  } else if (mask.kind === 'levels') {
    qLevel = idata('sdpa', new Tensor(mask.qLevel, [mask.qLevel.length]));
    kLevel = mask.kLevel;
    if (qLevel.length !== lq || kLevel.length < lk) {
      throw new Error(`sdpa: mask levels have ${qLevel.length} query and ${kLevel.length} key entries; expected ${lq} and ${lk}`);
    }
  }
  let biasStrideB = 0;
  let biasStrideH = 0;
  const bias = opts.bias;
  if (bias) {
    sameFloat('sdpa', q, bias);
    const bs = [...new Array<number>(4 - bias.rank).fill(1), ...bias.shape];
    if (bs.length !== 4 || bs[2] !== lq || bs[3] !== lk || (bs[0] !== 1 && bs[0] !== batch) || (bs[1] !== 1 && bs[1] !== heads)) {
      throw new Error(`sdpa: bias ${fmt(bias.shape)} does not broadcast to [${batch}, ${heads}, ${lq}, ${lk}] (last two axes must be exactly Lq, Lk)`);
    }
    biasStrideH = bs[1] === 1 ? 0 : lq * lk;
    biasStrideB = bs[0] === 1 ? 0 : (bs[1] as number) * lq * lk;
  }
  const p: AttentionParams = {
    batch,
    heads,
    kvHeads,
    lq,
    lk,
    kvCap,
    dim,
    dimV,
    scale: opts.scale ?? 1 / Math.sqrt(dim),
    qLevel,
    kLevel,
    bias: bias ? fdata('sdpa', bias) : null,
    biasStrideB,
    biasStrideH,
  };
  const [y, yd] = alloc([batch, heads, lq, dimV], dt);
  const needs = q.requiresGrad || k.requiresGrad || v.requiresGrad || (bias?.requiresGrad ?? false);
  const [, lse] = alloc([batch * heads * lq], dt);
  K().sdpa(fdata('sdpa', q), fdata('sdpa', k), fdata('sdpa', v), yd, needs ? lse : null, p);
  const inputs = bias ? [q, k, v, bias] : [q, k, v];
  return record(y, 'sdpa', inputs, (g) => {
    if (lk !== kvCap) throw new Error('sdpa: backward through a partially used KV cache is not supported; pass exact-length k/v');
    const [dq, dqd] = alloc(q.shape, dt);
    const [dk, dkd] = alloc(k.shape, dt);
    const [dv, dvd] = alloc(v.shape, dt);
    const [db, dbd] = alloc([batch, heads, lq, lk], dt);
    K().sdpaBackward(fdata('sdpa', q), fdata('sdpa', k), fdata('sdpa', v), yd, lse, fdata('sdpa', g), dqd, dkd, dvd, bias?.requiresGrad ? dbd : null, p);
    const grads: (Tensor | null)[] = [dq, dk, dv];
    if (bias) grads.push(bias.requiresGrad ? reshape(sumToShape(db, [...new Array<number>(4 - bias.rank).fill(1), ...bias.shape]), bias.shape) : null);
    return grads;
  });
}

/** Rotary embedding: x [B, L, H, D], table [L, D/2, 2] of (cos, sin) per position and pair. */
export function rope(x: Tensor, table: Tensor): Tensor {
  const dt = sameFloat('rope', x, table);
  if (x.rank !== 4) throw new Error(`rope: expected x [B, L, H, D], got ${fmt(x.shape)}`);
  const [batch, seq, heads, dim] = x.shape as [number, number, number, number];
  if (dim % 2 !== 0 || table.rank !== 3 || table.shape[0] !== seq || table.shape[1] !== dim / 2 || table.shape[2] !== 2) {
    throw new Error(`rope: table must be [${seq}, ${dim / 2}, 2] for x ${fmt(x.shape)}, got ${fmt(table.shape)}`);
  }
  const [y, yd] = alloc(x.shape, dt);
  const td = fdata('rope', table);
  K().rope(fdata('rope', x), td, yd, { batch, seq, heads, dim, inverse: false });
  return record(y, 'rope', [x], (g) => {
    const [dx, dxd] = alloc(x.shape, floatDType('rope', g));
    K().rope(fdata('rope', g), td, dxd, { batch, seq, heads, dim, inverse: true });
    return [dx];
  });
}
