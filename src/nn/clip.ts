// Gradient clipping by global L2 norm, as torch.nn.utils.clip_grad_norm_ (norm_type 2).

import type { Tensor } from '../tensor/tensor.js';

/** The L2 norm of all gradients together (parameters without a gradient count as zero). */
export function gradNorm(params: Iterable<Tensor>): number {
  let ss = 0;
  for (const p of new Set(params)) {
    const g = p.grad?.data;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) ss += (g[i] as number) * (g[i] as number);
  }
  return Math.sqrt(ss);
}

/** Scales every gradient by min(1, maxNorm / (norm + 1e-6)) in place, where norm is the global
 *  L2 norm; returns the norm before clipping. As torch (error_if_nonfinite = false), a
 *  non-finite norm is returned and propagates into the gradients. */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number): number {
  const unique = [...new Set(params)];
  const norm = gradNorm(unique);
  const coef = Math.min(maxNorm / (norm + 1e-6), 1);
  if (coef === 1) return norm; // multiplying by 1 changes nothing
  for (const p of unique) {
    const g = p.grad?.data;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) g[i] = (g[i] as number) * coef;
  }
  return norm;
}
