// Module: named parameters discovered from properties, as in torch.nn.Module. A property holding
// a tensor registered with `param()` is a parameter, one holding a Module is a child, and one
// holding an array of Modules is a list whose items are named 0, 1, … — so a model written
// with the official attribute names yields the official state-dict keys
// (e.g. `layers.0.attention.wqkv.weight`) with no renaming table.

import { fmt, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

const parameters = new WeakSet<Tensor>();
const persistentBuffers = new WeakSet<Tensor>();

/** Marks t as a trainable parameter (requires grad) and returns it. */
export function param(t: Tensor): Tensor {
  parameters.add(t);
  return t.requireGrad();
}

/** Marks t as a persistent buffer: saved in the state dict, not trained (e.g. a codebook usage
 *  counter). Runtime buffers (RoPE tables, caches) are plain properties and are not saved. */
export function buffer(t: Tensor): Tensor {
  persistentBuffers.add(t);
  return t;
}

export interface LoadReport {
  readonly missing: string[];
  readonly unexpected: string[];
  readonly mismatched: { name: string; expected: readonly number[]; found: readonly number[] }[];
}

export interface LoadOpts {
  /** Throw listing every problem when any key is missing, unexpected or mis-shaped (default true). */
  readonly strict?: boolean;
}

export abstract class Module {
  training = true;

  /** (name, tensor) for every parameter and persistent buffer, depth first in definition order. */
  namedTensors(prefix = '', includeBuffers = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      const name = prefix + key;
      if (value instanceof Tensor) {
        if (parameters.has(value) || (includeBuffers && persistentBuffers.has(value)))
          out.push([name, value]);
      } else if (value instanceof Module) {
        out.push(...value.namedTensors(name + '.', includeBuffers));
      } else if (
        Array.isArray(value) &&
        value.length > 0 &&
        value.every((v) => v instanceof Module)
      ) {
        value.forEach((m: Module, i) =>
          out.push(...m.namedTensors(`${name}.${i}.`, includeBuffers)),
        );
      }
    }
    return out;
  }

  /** Trainable parameters by name. A tensor reachable under several names (tied weights) is
   *  listed once, under its first name, as torch's named_parameters does, so an optimizer steps
   *  it once; stateDict() still lists every name. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [name, t] of this.namedTensors(prefix, false)) {
      if (seen.has(t)) continue;
      seen.add(t);
      out.push([name, t]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Parameters and persistent buffers by official name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map(this.namedTensors());
  }

  /** Copies tensors by name into this module's parameters (float data is cast as needed).
   *  Reports every missing, unexpected and mis-shaped key; with strict (default) any problem
   *  throws one error listing them all, before anything is modified. */
  loadStateDict(sd: ReadonlyMap<string, Tensor>, opts: LoadOpts = {}): LoadReport {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    for (const [name, t] of own) {
      const src = sd.get(name);
      if (!src) report.missing.push(name);
      else if (!sameShape(src.shape, t.shape))
        report.mismatched.push({ name, expected: t.shape, found: src.shape });
    }
    for (const name of sd.keys()) if (!own.has(name)) report.unexpected.push(name);
    const bad = report.missing.length + report.unexpected.length + report.mismatched.length;
    if (strict && bad > 0) throw new Error(describeLoadReport(this.constructor.name, report));
    for (const [name, t] of own) {
      const src = sd.get(name);
      if (src && sameShape(src.shape, t.shape)) t.data.set(src.data);
    }
    return report;
  }

  /** Sets training mode on this module and every descendant (dropout is active in training). */
  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** This module and all descendants. */
  modules(): Module[] {
    const out: Module[] = [this];
    for (const value of Object.values(this)) {
      if (value instanceof Module) out.push(...value.modules());
      else if (Array.isArray(value))
        for (const v of value) if (v instanceof Module) out.push(...v.modules());
    }
    return out;
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}

export function describeLoadReport(what: string, r: LoadReport): string {
  const lines = [`${what}: the checkpoint does not match the model`];
  const list = (title: string, names: string[]) => {
    if (names.length === 0) return;
    const shown = names.slice(0, 20).join(', ');
    lines.push(`  ${title} (${names.length}): ${shown}${names.length > 20 ? ', …' : ''}`);
  };
  list('missing keys', r.missing);
  list('unexpected keys', r.unexpected);
  if (r.mismatched.length > 0) {
    lines.push(
      `  mis-shaped keys (${r.mismatched.length}): ` +
        r.mismatched
          .slice(0, 20)
          .map((m) => `${m.name} expected ${fmt(m.expected)} found ${fmt(m.found)}`)
          .join('; '),
    );
  }
  lines.push(
    'HINT: check the preset/config matches the checkpoint, or select a sub-dict with --key (e.g. model, ema).',
  );
  return lines.join('\n');
}
