// Classifier-free guidance mixing: ℓ = ℓ_u + s·(ℓ_c − ℓ_u) (LlamaGen's form; VAR's
// (1 + w)·ℓ_c − w·ℓ_u is the same with s = 1 + w).

export function cfgMix(cond: Float32Array, uncond: Float32Array, scale: number): Float32Array {
  if (cond.length !== uncond.length) {
    throw new Error(`cfgMix: conditional (${cond.length}) and unconditional (${uncond.length}) logits differ in size`);
  }
  // Rounded to float32 after every operation, as the official torch expression is.
  const f = Math.fround;
  const s = f(scale);
  const out = new Float32Array(cond.length);
  for (let i = 0; i < out.length; i++) {
    const u = uncond[i] as number;
    out[i] = u + f(f((cond[i] as number) - u) * s);
  }
  return out;
}
