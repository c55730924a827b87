// Reverse-mode autograd over a tape. Ops call `record` after computing their output; when no
// input needs a gradient, or inside `noGrad`, nothing is recorded (zero tape overhead).
// `backward` walks the recorded graph once in reverse topological order, accumulates input
// gradients, stores leaf gradients in `.grad` (accumulating across calls), and releases each
// node as soon as it has run so that saved intermediates become garbage.
// Gradients are first order: backward rules run under noGrad.

import { Tensor, type TapeNode } from './tensor.js';

let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn with gradient recording off (inference). Nestable; restores the previous mode. */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

export function needsGrad(inputs: readonly Tensor[]): boolean {
  if (!enabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

export type BackwardRule = (grad: Tensor) => readonly (Tensor | null)[];

/** Attaches a tape node to `out` when any input requires a gradient; returns out. */
export function record<T extends Tensor>(out: T, op: string, inputs: readonly Tensor[], rule: BackwardRule): T {
  if (!needsGrad(inputs)) return out;
  const node: TapeNode = { op, inputs, backward: rule };
  out.requiresGrad = true;
  out.node = node;
  return out;
}

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as [Tensor, number];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const child = inputs[i] as Tensor;
      if (child.requiresGrad && !seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order; // inputs before outputs
}

function addInto(dst: Tensor, src: Tensor): void {
  const d = dst.data;
  const s = src.data;
  for (let i = 0; i < d.length; i++) d[i] = (d[i] as number) + (s[i] as number);
}

/** Backpropagates from `root`. `grad` defaults to ones (root must then be a scalar). */
export function backward(root: Tensor, grad?: Tensor, makeOnes?: (like: Tensor) => Tensor): void {
  if (!root.requiresGrad) {
    throw new Error('backward: the tensor does not require grad (no input had requireGrad())');
  }
  let g0 = grad;
  if (!g0) {
    if (root.size !== 1) {
      throw new Error(`backward: root has shape [${root.shape.join(', ')}]; pass a gradient or reduce to a scalar first`);
    }
    if (!makeOnes) throw new Error('backward: no gradient given');
    g0 = makeOnes(root);
  }
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, g0);
  const order = topoOrder(root);
  const prev = enabled;
  enabled = false;
  try {
    for (let n = order.length - 1; n >= 0; n--) {
      const t = order[n] as Tensor;
      const g = grads.get(t);
      grads.delete(t);
      const node = t.node;
      if (!node) {
        if (g) {
          if (t.grad) addInto(t.grad, g);
          else t.grad = owned.has(g) ? g : cloneTensor(g);
        }
        continue;
      }
      if (!node.backward) throw new Error(`backward: the graph through ${node.op} was already used; run the forward again`);
      if (g) {
        const ins = node.backward(g);
        for (let i = 0; i < node.inputs.length; i++) {
          const inp = node.inputs[i] as Tensor;
          const gi = ins[i];
          if (!inp.requiresGrad || !gi) continue;
          if (gi.shape.length !== inp.shape.length || gi.size !== inp.size) {
            throw new Error(`backward: ${node.op} produced a gradient of shape [${gi.shape.join(', ')}] for an input of shape [${inp.shape.join(', ')}]`);
          }
          const prevG = grads.get(inp);
          if (prevG) {
            if (owned.has(prevG)) addInto(prevG, gi);
            else grads.set(inp, sumNew(prevG, gi));
          } else grads.set(inp, gi);
        }
      }
      node.backward = null;
      t.node = null;
    }
  } finally {
    enabled = prev;
  }
}

// A gradient handed out by a rule may alias another tensor (add passes its output gradient
// through unchanged), so accumulation never writes into it: the first accumulation makes a
// fresh sum that the engine owns and may then update in place.
const owned = new WeakSet<Tensor>();
function sumNew(a: Tensor, b: Tensor): Tensor {
  const out = cloneTensor(a);
  addInto(out, b);
  owned.add(out);
  return out;
}
function cloneTensor(t: Tensor): Tensor {
  return new Tensor(t.data.slice(), t.shape);
}
