// The view of an AR teacher that Distilled Decoding needs: generation in which every token's
// random draw is replaced by a caller-supplied choice (the flow map). LlamaGen calls the
// picker once per token (count = 1), VAR once per scale (count = tokens of the scale).

import { flowMap, type FlowMapOpts } from './flow.js';

/** Chooses tokens [B·count] from the sampling distributions probs [B·count, V] (after CFG,
 *  temperature, top-k, top-p) of tokens start … start+count−1 of every sample; row
 *  b·count + j is token start + j of sample b. */
export type TokenPicker = (probs: Float32Array, start: number, count: number) => Int32Array;

export interface FlowTeacher {
  /** Identifies the model family and size, e.g. 'llamagen GPT-B'. */
  readonly name: string;
  readonly numClasses: number;
  /** Tokens per sample (LlamaGen: 256; VAR: Σ pn²). */
  readonly seqLen: number;
  readonly vocab: number;
  /** Codebook dimension d. */
  readonly codeDim: number;
  /** [V, d] the vectors the flow map lands on (LlamaGen: l2-normalised codebook). */
  readonly codebook: Float32Array;
  /** The sampling settings that shape p (recorded in dataset manifests). */
  readonly settings: Readonly<Record<string, number | string | boolean>>;
  /** Token indices [B, seqLen] for class labels [B]. */
  generate(classes: Int32Array, pick: TokenPicker): Int32Array;
}

/** The sequence flow map: ε [B, L, d] ↦ tokens [B, L], deterministic given the teacher. */
export function sequenceFlowMap(teacher: FlowTeacher, classes: Int32Array, noise: Float32Array, flow: FlowMapOpts): Int32Array {
  const B = classes.length;
  const { seqLen: L, codeDim: d, vocab: V } = teacher;
  if (noise.length !== B * L * d) {
    throw new Error(`sequenceFlowMap: noise must be [${B}, ${L}, ${d}] (${B * L * d} values), got ${noise.length}`);
  }
  return teacher.generate(classes, (probs, start, count) => {
    if (probs.length !== B * count * V) throw new Error(`sequenceFlowMap: picker got ${probs.length} probabilities for ${B}×${count} tokens of V=${V}`);
    const eps = new Float32Array(B * count * d);
    for (let b = 0; b < B; b++) eps.set(noise.subarray((b * L + start) * d, (b * L + start + count) * d), b * count * d);
    return flowMap(probs, teacher.codebook, eps, V, d, flow).tokens;
  });
}
